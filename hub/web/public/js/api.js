/**
 * The JSON API with the session's bearer token. The API enforces every permission; this module
 * only carries the token and turns failures into ApiError with a readable message.
 */
import { has, lang, t } from './i18n.js';

const KEY = 'hadir.session';
const IDLE_MS = 12 * 3600_000; // same as the hub's web-session idle limit

export class ApiError extends Error {
  /** `message` is in the UI language; `detail` keeps the hub's own words (for a tooltip or a log). */
  constructor(status, message, detail = message) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

const ID_WORDS = /\b(tidak|belum|sudah|salah|harus|bukan|sesi|terlalu|kata sandi|pegawai|dikenal|ditemukan|berakhir|aturan|presensi|perangkat|hanya|atau|untuk|dengan|yang|berhak|coba|lagi|masuk|menunggu|ditolak)\b/i;

/**
 * The hub's error in the UI language. Hub messages are "Indonesian / English", Indonesian words in
 * parentheses, or English only (validation detail). An Indonesian page never shows the English:
 * it shows the Indonesian part, or a plain Indonesian sentence for the status.
 */
export function localMessage(raw, status, language = lang()) {
  const text = String(raw ?? '').trim();
  const slash = text.indexOf(' / ');
  if (slash > 0) {
    const [idPart, enPart] = [text.slice(0, slash), text.slice(slash + 3)];
    if (ID_WORDS.test(idPart)) return language === 'id' ? idPart : enPart;
  }
  if (language !== 'id') return text;
  if (ID_WORDS.test(text.replace(/\([^)]*\)/g, '')) && !/\b(the|is|must|not|no|cannot|unknown|invalid|already)\b/i.test(text)) return text;
  const paren = /\(([^)]*)\)/.exec(text)?.[1];
  const generic = has(`http.${status}`) ? t(`http.${status}`) : t('http.other');
  return paren && ID_WORDS.test(paren) ? `${generic}: ${paren}` : generic;
}

let session = load();
const listeners = new Set();

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    if (!s || !s.token || Date.now() - (s.usedAt ?? 0) > IDLE_MS) return null;
    return s;
  } catch {
    return null;
  }
}
function save() {
  try {
    if (session) localStorage.setItem(KEY, JSON.stringify(session));
    else localStorage.removeItem(KEY);
  } catch {
    /* storage unavailable: the session lasts this page only */
  }
}

export function getSession() {
  return session;
}
export function setSession(s) {
  session = s ? { ...s, usedAt: Date.now() } : null;
  save();
}
/** Called with a reason when the hub says the token is no longer valid. */
export function onSessionLost(fn) {
  listeners.add(fn);
}

function url(path, query) {
  const u = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  return u;
}

/**
 * The one fetch of both pages, the dashboard and the staff page ("Presensi Saya", staff.js): the
 * bearer token, JSON in and out, and a refusal as ApiError carrying the hub's `{error}` line in the
 * reader's language (status 0: the hub cannot be reached). `onUnauthorized` runs on a 401 sent
 * with a token (the page forgets it).
 */
export async function hubRequest(path, { method = 'GET', query, body, token, language = lang(), onUnauthorized } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(url(path, query), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, t('state.offline', undefined, language), 'offline');
  }
  if (res.status === 401 && token) onUnauthorized?.();
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      const j = await res.json();
      if (j && j.error) msg = typeof j.error === 'string' ? j.error : JSON.stringify(j.error);
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, localMessage(msg, res.status, language), msg);
  }
  return res;
}

function sessionLost() {
  setSession(null);
  for (const f of listeners) f('expired');
}

async function request(path, { method = 'GET', query, body } = {}) {
  const res = await hubRequest(path, { method, query, body, token: session?.token, onUnauthorized: path.startsWith('/auth/login') ? undefined : sessionLost });
  if (session) {
    session.usedAt = Date.now();
    save();
  }
  return res;
}

export async function api(path, opts) {
  const res = await request(path, opts);
  return res.json();
}

/** Fetches a report file (the token cannot ride on a plain link) and hands it to the browser. */
export async function download(path, query, fallbackName) {
  const res = await request(path, { query });
  const cd = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(cd)?.[1] ?? fallbackName;
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  return name;
}
