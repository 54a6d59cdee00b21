import { h, fill } from './dom.js';
import { lang, setLang, t } from './i18n.js';
import { api, getSession, onSessionLost, setSession } from './api.js';
import { errorBox, loading } from './ui.js';
import { setZone } from './fmt.js';
import { renderLogin } from './pages/login.js';
import { renderSummary } from './pages/summary.js';
import { renderDevices } from './pages/devices.js';
import { renderAttendance } from './pages/attendance.js';
import { renderTpp } from './pages/tpp.js';
import { renderLate } from './pages/late.js';
import { renderApprovals } from './pages/approvals.js';
import { renderAudit } from './pages/audit.js';

/** Pages by hash route (#/presensi?bulan=2026-10&opd=DINKES): state lives in the URL, so it can be bookmarked. */
const PAGES = [
  { path: 'ringkasan', label: 'nav.summary', render: renderSummary },
  { path: 'terminal', label: 'nav.devices', render: renderDevices },
  { path: 'presensi', label: 'nav.attendance', render: renderAttendance },
  { path: 'tpp', label: 'nav.tpp', render: renderTpp },
  { path: 'terlambat', label: 'nav.late', render: renderLate },
  { path: 'persetujuan', label: 'nav.approvals', render: renderApprovals },
  { path: 'audit', label: 'nav.audit', render: renderAudit },
];
/** Pages a technician may open (terminals only: the API refuses them the rest, hub/http/roles.ts). */
const TECHNICIAN_PAGES = new Set(['terminal']);
const pagesFor = (user) => (user.role === 'technician' ? PAGES.filter((p) => TECHNICIAN_PAGES.has(p.path)) : PAGES);

const root = document.getElementById('app');
let cleanup = null;
let notice = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  return { path: path || 'ringkasan', params: Object.fromEntries(new URLSearchParams(qs ?? '')) };
}

// The month and OPD chosen on one report page carry over to the others (this tab only).
const SCOPE_KEY = 'hadir.scope';
const SCOPED = new Set(['presensi', 'tpp', 'terlambat', 'persetujuan']);
function remembered() {
  try {
    return JSON.parse(sessionStorage.getItem(SCOPE_KEY) ?? '{}');
  } catch {
    return {};
  }
}
function remember(params) {
  const keep = {};
  if ('bulan' in params) keep.bulan = params.bulan;
  if ('opd' in params) keep.opd = params.opd ?? '';
  try {
    sessionStorage.setItem(SCOPE_KEY, JSON.stringify({ ...remembered(), ...keep }));
  } catch {
    /* no storage: nothing carries over */
  }
}

function setParams(path, params) {
  if (SCOPED.has(path)) remember(params);
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  const next = `#/${path}${qs ? `?${qs}` : ''}`;
  if (location.hash !== next) location.hash = next;
  else route();
}

async function route() {
  if (cleanup) cleanup();
  cleanup = null;
  document.documentElement.lang = lang();
  document.title = t('app.title');
  const session = getSession();
  if (!session) {
    fill(root, renderLogin({ notice, onLogin }));
    notice = null;
    return;
  }
  const { path, params: own } = parseHash();
  const params = SCOPED.has(path) ? { ...remembered(), ...own } : own;
  const pages = pagesFor(session.user);
  const page = pages.find((p) => p.path === path) ?? pages[0];
  const main = h('main', { id: 'main', tabindex: '-1' });
  fill(root, shell(session, page), main, footer());
  const ctx = { session, params, setParams: (p) => setParams(page.path, p) };
  try {
    cleanup = (await page.render(main, ctx)) ?? null;
  } catch (e) {
    fill(main, errorBox(e, route));
  }
}

function shell(session, active) {
  const u = session.user;
  const opd = u.role === 'opd_admin' ? session.opds?.[0]?.name ?? u.opdCode : null;
  return h('header.top',
    h('div.brand', h('span.logo', { 'aria-hidden': 'true' }, 'H'), h('span', t('app.name'))),
    h('nav', { 'aria-label': 'menu' }, pagesFor(u).map((p) => h('a', { href: `#/${p.path}`, class: p === active ? 'active' : undefined, 'aria-current': p === active ? 'page' : undefined }, t(p.label)))),
    h('div.who',
      h('span.user', { title: u.username }, u.name, h('small', opd ? `${t('role.opd_admin')} · ${opd}` : t(`role.${u.role}`))),
      h('button.link', { type: 'button', onclick: toggleLang, 'data-testid': 'lang' }, t('lang.switch')),
      h('button.secondary', { type: 'button', onclick: logout }, t('auth.logout'))));
}

/** For the hub operator: version, broker link state, and where the metrics and API description are. */
function footer() {
  const state = h('span');
  fetch('/healthz')
    .then((r) => r.json())
    .then((j) => fill(state, `Hadir hub ${j.version} · MQTT `, h('span', { class: j.mqtt ? 'tone-ok' : 'tone-bad' }, j.mqtt ? t('foot.mqtt_ok') : t('foot.mqtt_down'))))
    .catch(() => fill(state, h('span.tone-bad', t('state.offline'))));
  return h('footer.foot', state, ' · ', h('a', { href: '/metrics', target: '_blank', rel: 'noopener' }, 'metrics'), ' · ', h('a', { href: '/api/v1/openapi.json', target: '_blank', rel: 'noopener' }, 'API (OpenAPI)'));
}

function toggleLang() {
  setLang(lang() === 'id' ? 'en' : 'id');
  route();
}

async function onLogin(res) {
  setSession({ token: res.token, user: res.user, opds: [] });
  try {
    const me = await api('/auth/me');
    setSession({ token: res.token, user: me.user, opds: me.opds });
  } catch {
    /* the pages show the error */
  }
  if (!location.hash) location.hash = '#/ringkasan';
  route();
}

async function logout() {
  try {
    await api('/auth/logout', { method: 'POST' });
  } catch {
    /* the token is forgotten here either way */
  }
  setSession(null);
  route();
}

onSessionLost(() => {
  notice = t('auth.expired');
  route();
});
window.addEventListener('hashchange', route);

// A stored session is re-checked once at start (a revoked or disabled user is sent to the login page).
(async () => {
  // Times are shown in the office's zone (WIB/WITA/WIT), named, whatever the browser's zone is.
  await fetch('/api/v1/zone')
    .then((r) => r.json())
    .then((z) => setZone(z.offsetMin))
    .catch(() => {});
  if (getSession()) {
    fill(root, loading());
    try {
      const me = await api('/auth/me');
      setSession({ ...getSession(), user: me.user, opds: me.opds });
    } catch (e) {
      if (e.status !== 401) {
        fill(root, errorBox(e, () => location.reload()));
        return;
      }
    }
  }
  route();
})();
