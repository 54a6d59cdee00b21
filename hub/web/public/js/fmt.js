import { lang } from './i18n.js';

const group = (s) => s.replace(/\B(?=(\d{3})+(?!\d))/g, '.');

/** 4290000 → "Rp 4.290.000" (whole rupiah, rounded down like the report). */
export function rupiah(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const v = Math.floor(n);
  return `${v < 0 ? '−' : ''}Rp ${group(String(Math.abs(v)))}`;
}

/** 5.5 → "5,5 %" (Indonesian) / "5.5 %" (English). */
export function pct(n) {
  if (n === null || n === undefined) return '–';
  const s = String(Math.round(n * 100) / 100);
  return `${lang() === 'id' ? s.replace('.', ',') : s} %`;
}

export function num(n) {
  if (n === null || n === undefined) return '–';
  return lang() === 'id' ? group(String(n)) : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const pad = (n) => String(n).padStart(2, '0');

/** "2026-10-05" → "05/10/2026". */
export function date(d) {
  if (!d) return '–';
  const [y, m, day] = d.slice(0, 10).split('-');
  return `${day}/${m}/${y}`;
}

/** UTC ISO instant → local "05/10/2026 07:31" (the browser's time zone: the office's). */
export function dateTime(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${pad(t.getDate())}/${pad(t.getMonth() + 1)}/${t.getFullYear()} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

export function time(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  return `${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

/** Local calendar date YYYY-MM-DD of a Date. */
export function isoDate(t = new Date()) {
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}
export function isoMonth(t = new Date()) {
  return isoDate(t).slice(0, 7);
}

const MONTHS = {
  id: ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};
/** "2026-10" → "Oktober 2026". */
export function monthLabel(m) {
  const [y, mm] = m.split('-').map(Number);
  return `${MONTHS[lang()][mm - 1]} ${y}`;
}

/** Age of an instant, short: "baru saja", "5 mnt lalu", "3 jam lalu", "2 hari lalu". */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const en = lang() === 'en';
  if (s < 60) return en ? 'just now' : 'baru saja';
  if (s < 3600) return en ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 60)} mnt lalu`;
  if (s < 86400) return en ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 3600)} jam lalu`;
  return en ? `${Math.floor(s / 86400)} d ago` : `${Math.floor(s / 86400)} hari lalu`;
}

/** Milliseconds → "+1,2 s" / "−340 ms". */
export function offset(ms) {
  if (ms === null || ms === undefined) return '–';
  const sign = ms > 0 ? '+' : ms < 0 ? '−' : '';
  const a = Math.abs(ms);
  const s = a >= 1000 ? `${(Math.round(a / 100) / 10).toString()} s` : `${Math.round(a)} ms`;
  return sign + (lang() === 'id' ? s.replace('.', ',') : s);
}
