import { h, fill } from '../dom.js';
import { has, t } from '../i18n.js';
import { api } from '../api.js';
import { ago, dateTime, num, offset } from '../fmt.js';
import { badge, empty, errorBox, loading, table, toast } from '../ui.js';

const COMMANDS = ['ping', 'sync_now', 'reload_roster', 'restart_service', 'enrol_mode'];
const COMP_TONE = { ok: 'ok', degraded: 'warn', fault: 'bad', absent: 'muted', disabled: 'muted' };

/**
 * Terminal: every kiosk in scope with online state, last seen, undelivered backlog, seq gaps,
 * clock offset, temperature and components; a selected kiosk (#/terminal?d=ID) shows its alerts
 * (acknowledge), clock drift from its health history, and remote commands with their results.
 */
export async function renderDevices(main, { params, setParams }) {
  const list = h('div');
  const alertsAll = h('section.panel', { 'data-testid': 'alerts' });
  const detail = h('div');
  let detailAlerts = null;
  fill(main, h('div.page-head', h('h1', t('devices.title')), h('button.secondary', { type: 'button', onclick: () => load(true) }, t('common.refresh'))), list, detail, alertsAll);

  /** The periodic refresh redraws the list only: the open detail keeps its form and command status. */
  async function load(withDetail = false) {
    if (!list.firstChild) list.append(loading());
    try {
      const [core, health] = await Promise.all([api('/devices'), api('/health/devices')]);
      const hv = new Map(health.items.map((x) => [x.deviceId, x]));
      const rows = core.items.map((d) => ({ ...d, hv: hv.get(d.id) }));
      if (!rows.length) return fill(list, empty(t('devices.empty')));
      fill(list, table([
        { label: t('devices.id'), value: (d) => h('a', { href: `#/terminal?d=${encodeURIComponent(d.id)}`, class: 'strong' }, d.id) },
        { label: t('common.site'), value: (d) => d.siteCode },
        { label: t('devices.state'), value: stateBadge, key: 'state' },
        { label: t('devices.last_seen'), value: (d) => (d.lastSeenAt ? h('span', { title: dateTime(d.lastSeenAt) }, ago(d.lastSeenAt)) : t('devices.never')) },
        { label: t('devices.backlog'), cls: 'num', value: (d) => backlogCell(d) },
        { label: t('devices.gaps'), value: (d) => (d.seqGaps.length ? badge(d.seqGaps.map((g) => (g.from === g.to ? g.from : `${g.from}–${g.to}`)).join(', '), 'bad') : '–') },
        { label: t('devices.offset'), cls: 'num', value: (d) => clockCell(d.hv) },
        { label: t('devices.temp'), cls: 'num', value: (d) => tempCell(d.hv?.health?.system?.cpuTempC) },
        { label: t('devices.components'), value: (d) => components(d.hv?.health?.components) },
        { label: t('devices.version'), value: (d) => versionCell(d.fleet), key: 'version' },
        { label: t('devices.alerts'), cls: 'num', value: (d) => (d.hv?.alerts?.length ? badge(String(d.hv.alerts.length), d.hv.alerts.some((a) => a.severity === 'critical') ? 'bad' : 'warn') : '–') },
      ], rows, { rowClass: (d) => (d.id === params.d ? 'selected' : undefined), cls: 'devices' }));
      if (withDetail && params.d) await showDetail(rows.find((d) => d.id === params.d));
      loadAlerts(null, alertsAll);
    } catch (e) {
      fill(list, errorBox(e, () => load(withDetail)));
    }
  }

  async function showDetail(d) {
    if (!d) return fill(detail);
    const alertsEl = h('div', loading());
    const cmdEl = h('div');
    const histEl = h('dd', '…');
    fill(detail, h('section.panel.detail', { 'data-testid': 'device-detail' },
      h('div.page-head', h('h2', `${t('devices.detail')}: ${d.id}`), h('button.link', { type: 'button', onclick: () => setParams({}) }, t('common.close'))),
      h('div.grid2', h('div', facts(d, histEl)), h('div', h('h3', t('devices.alerts')), alertsEl, h('h3', t('devices.command')), commandForm(d, cmdEl), cmdEl))));
    detailAlerts = { d, el: alertsEl };
    loadAlerts(d, alertsEl);
    loadCommands(d, cmdEl);
    loadDrift(d, histEl);
  }

  /** Open alerts of one kiosk (d) or of every kiosk in scope (d = null, with a heading and the kiosk column). */
  async function loadAlerts(d, el) {
    try {
      const a = await api('/alerts', { query: { device: d?.id, status: 'open' } });
      const head = d ? null : h('h2', `${t('devices.open_alerts')} (${a.items.length})`);
      if (!a.items.length) return fill(el, head, empty(t('devices.no_alerts')));
      fill(el, head, table([
        ...(d ? [] : [{ label: t('devices.id'), value: (x) => h('a', { href: `#/terminal?d=${encodeURIComponent(x.deviceId)}` }, x.deviceId) }]),
        { label: '', value: (x) => badge(t(`sev.${x.severity}`), x.severity === 'critical' ? 'bad' : 'warn') },
        { label: t('appr.note'), value: (x) => h('span', h('b', { title: x.kind }, alertName(x.kind)), ' ', x.detail) },
        { label: '', value: (x) => h('span.muted', { title: dateTime(x.raisedAt) }, ago(x.raisedAt)) },
        { label: '', value: (x) => (x.ackedAt ? h('span.muted', `${t('devices.acked')} (${x.ackedBy})`) : h('button.small', { type: 'button', onclick: (e) => ack(x, e.target, d, el) }, t('devices.ack'))) },
      ], a.items));
    } catch (e) {
      fill(el, errorBox(e, () => loadAlerts(d, el)));
    }
  }
  async function ack(x, btn, d, el) {
    btn.disabled = true;
    try {
      await api(`/alerts/${x.id}/ack`, { method: 'POST' });
      toast(t('appr.done'));
      // both alert lists (this kiosk's and everyone's) show the acknowledgement
      loadAlerts(null, alertsAll);
      if (detailAlerts) loadAlerts(detailAlerts.d, detailAlerts.el);
    } catch (e) {
      toast(e.message, 'bad');
      btn.disabled = false;
    }
  }

  function commandForm(d, out) {
    // enrol_mode needs who and how: NIP, face or finger (which finger: ISO/IEC 19794-2 position, as the kiosk uses)
    const nip = h('input', { name: 'nip', size: 20, inputmode: 'numeric', placeholder: 'NIP', 'aria-label': 'NIP' });
    const method = h('select', { name: 'method', 'aria-label': t('devices.method') }, h('option', { value: 'face' }, t('devices.face')), h('option', { value: 'finger' }, t('devices.finger')));
    const finger = h('select', { name: 'finger', 'aria-label': t('devices.finger_no'), hidden: true }, Array.from({ length: 11 }, (_, i) => h('option', { value: i, selected: i === 2 }, t(`finger.${i}`))));
    const enrolArgs = h('span.enrol-args', { hidden: true }, nip, method, finger);
    method.addEventListener('change', () => (finger.hidden = method.value !== 'finger'));
    const sel = h('select', { 'aria-label': t('devices.command'), onchange: () => (enrolArgs.hidden = sel.value !== 'enrol_mode') }, COMMANDS.map((c) => h('option', { value: c }, t(`cmd.${c}`))));
    const status = h('p.muted.small', { role: 'status' });
    const btn = h('button', { type: 'submit' }, t('devices.send'));
    return h('form.inline', {
      onsubmit: async (e) => {
        e.preventDefault();
        let body = { cmd: sel.value, waitS: 10 };
        if (sel.value === 'enrol_mode') {
          if (!nip.value.trim()) return toast(t('devices.need_nip'), 'bad');
          body = { cmd: 'enrol_mode', waitS: 75, args: { nip: nip.value.trim(), method: method.value, timeoutS: 60, ...(method.value === 'finger' ? { finger: Number(finger.value) } : {}) } };
        }
        if (sel.value === 'restart_service' && !confirm(t('devices.confirm_restart', { id: d.id }))) return;
        btn.disabled = true;
        status.textContent = sel.value === 'enrol_mode' ? t('devices.enrol_wait') : t('devices.sending');
        status.className = 'muted small';
        try {
          const r = await api(`/devices/${encodeURIComponent(d.id)}/commands`, { method: 'POST', body });
          status.textContent = r.status === 'done' ? `${r.ok ? t('devices.cmd_done') : t('devices.cmd_failed')}: ${resultText(r)}` : t('devices.cmd_pending');
          status.className = `small tone-${r.status === 'done' ? (r.ok ? 'ok' : 'bad') : 'warn'}`;
          loadCommands(d, out);
        } catch (err) {
          status.textContent = err.message;
          status.className = 'small tone-bad';
        } finally {
          btn.disabled = false;
        }
      },
    }, sel, enrolArgs, btn, status);
  }

  async function loadCommands(d, el) {
    try {
      const r = await api(`/devices/${encodeURIComponent(d.id)}/commands`);
      if (!r.items.length) return fill(el, h('h3', t('devices.history')), empty(t('devices.no_commands')));
      fill(el, h('h3', t('devices.history')), table([
        { label: t('devices.command'), value: (c) => t(`cmd.${c.cmd}`) },
        { label: '', value: (c) => h('span.muted', { title: dateTime(c.sentAt) }, `${ago(c.sentAt)} · ${c.sentBy ?? ''}`) },
        { label: t('devices.state'), value: (c) => (c.status === 'done' ? badge(c.ok ? t('devices.cmd_done') : t('devices.cmd_failed'), c.ok ? 'ok' : 'bad') : badge('…', 'warn')) },
        { label: '', value: (c) => h('span.small.mono', resultText(c)) },
      ], r.items.slice(0, 10)));
    } catch (e) {
      fill(el, errorBox(e, () => loadCommands(d, el)));
    }
  }

  async function loadDrift(d, el) {
    try {
      const r = await api(`/devices/${encodeURIComponent(d.id)}/health`, { query: { limit: 1440 } });
      const pts = r.items.map((x) => ({ t: Date.parse(x.receivedAt), o: x.estOffsetMs ?? x.body?.clock?.offsetMs })).filter((p) => typeof p.o === 'number');
      const temps = r.items.map((x) => ({ t: Date.parse(x.receivedAt), o: x.body?.system?.cpuTempC })).filter((p) => typeof p.o === 'number');
      // drift = least-squares slope of the offset over at least an hour of history
      let drift = '–';
      const span = pts.length >= 2 ? Math.max(...pts.map((p) => p.t)) - Math.min(...pts.map((p) => p.t)) : 0;
      if (span > 3600_000) drift = `${offset(slope(pts) * 86_400_000)}${t('devices.per_day')}`;
      fill(el, drift,
        pts.length >= 2 ? h('div.spark', spark(pts), h('small.muted', `${t('devices.offset')}: ${offset(Math.min(...pts.map((p) => p.o)))} … ${offset(Math.max(...pts.map((p) => p.o)))}`)) : null,
        temps.length >= 2 ? h('div.spark', spark(temps), h('small.muted', `${t('devices.temp')}: ${Math.round(Math.min(...temps.map((p) => p.o)))}–${Math.round(Math.max(...temps.map((p) => p.o)))} °C`)) : null);
    } catch {
      fill(el, '–');
    }
  }

  await load(true);
  const timer = setInterval(() => load(false), 30_000);
  return () => clearInterval(timer);
}

/** A known alert kind in the UI language; a kind added later at the hub shows as is. */
function alertName(kind) {
  const s = t(`alert.${kind}`);
  return s === `alert.${kind}` ? kind : s;
}
/** Least-squares slope of o over t. */
function slope(pts) {
  const n = pts.length;
  const mt = pts.reduce((s, p) => s + p.t, 0) / n, mo = pts.reduce((s, p) => s + p.o, 0) / n;
  let num = 0, den = 0;
  for (const p of pts) {
    num += (p.t - mt) * (p.o - mo);
    den += (p.t - mt) ** 2;
  }
  return den ? num / den : 0;
}

/** A small line chart of a health series (points {t, o}), oldest left; no chart library needed for one line. */
function spark(points, w = 220, hgt = 36) {
  const ns = 'http://www.w3.org/2000/svg';
  const xs = points.map((p) => p.t), ys = points.map((p) => p.o);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => (x1 === x0 ? w / 2 : ((x - x0) / (x1 - x0)) * (w - 4) + 2);
  const sy = (y) => (y1 === y0 ? hgt / 2 : hgt - 2 - ((y - y0) / (y1 - y0)) * (hgt - 4));
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(hgt));
  svg.setAttribute('role', 'img');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', [...points].sort((a, b) => a.t - b.t).map((p) => `${sx(p.t).toFixed(1)},${sy(p.o).toFixed(1)}`).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

function stateBadge(d) {
  if (d.disabled) return badge(t('devices.disabled'), 'muted');
  if (!d.enrolled) return badge(t('devices.not_enrolled'), 'muted');
  return d.online ? badge(t('devices.online'), 'ok') : badge(t('devices.offline'), 'bad');
}
function backlogCell(d) {
  const n = d.backlog.undelivered;
  if (n === null || n === undefined) return '–';
  if (!n) return '0';
  return h('span', { class: 'tone-warn' }, num(n), d.backlog.oldestUndeliveredAt ? h('small.block', `${t('devices.oldest')} ${ago(d.backlog.oldestUndeliveredAt)}`) : null);
}
function clockCell(hv) {
  const c = hv?.health?.clock;
  const est = hv?.estClockOffsetMs;
  if (!c && (est === null || est === undefined)) return '–';
  const big = Math.abs(est ?? c?.offsetMs ?? 0) > 2000;
  return h('span', { class: big || (c && !c.synced) ? 'tone-warn' : undefined }, offset(est ?? c?.offsetMs),
    c ? h('small.block', `${c.source} · ${c.synced ? t('devices.synced') : t('devices.unsynced')}`) : null);
}
function tempCell(v) {
  if (v === undefined || v === null) return '–';
  return h('span', { class: v >= 80 ? 'tone-bad' : v >= 70 ? 'tone-warn' : undefined }, `${Math.round(v)} °C`);
}
function components(c) {
  if (!c) return '–';
  return h('span.comps', Object.entries(c).map(([k, v]) => withTitle(badge(`${has(`compname.${k}`) ? t(`compname.${k}`) : k}: ${t(`comp.${v.state}`)}`, COMP_TONE[v.state]), v.detail)));
}
function withTitle(el, title) {
  if (title) el.title = title;
  return el;
}
function facts(d, driftEl) {
  const hl = d.hv?.health;
  return h('dl.facts',
    h('dt', t('devices.state')), h('dd', stateBadge(d)),
    h('dt', t('devices.last_seen')), h('dd', dateTime(d.lastSeenAt)),
    h('dt', t('devices.seq')), h('dd', `${num(d.contiguousSeq)} / ${num(d.maxSeq)}`),
    h('dt', t('devices.backlog')), h('dd', backlogCell(d)),
    h('dt', t('devices.est_offset')), h('dd', offset(d.hv?.estClockOffsetMs)),
    h('dt', t('devices.drift')), driftEl,
    h('dt', t('devices.reported_offset')), h('dd', hl?.clock ? `${offset(hl.clock.offsetMs)} (${hl.clock.source})` : '–'),
    h('dt', t('devices.temp')), h('dd', tempCell(hl?.system?.cpuTempC)),
    h('dt', t('devices.disk')), h('dd', hl?.system?.diskFreePct !== undefined ? `${Math.round(hl.system.diskFreePct)} %` : '–'),
    h('dt', t('devices.version')), h('dd', d.fleet?.version ?? hl?.appVersion ?? '–'),
    h('dt', t('fleet.rollout')), h('dd', rolloutText(d.fleet)),
    h('dt', t('fleet.failures')), h('dd', { 'data-testid': 'fleet-failures' }, d.fleet?.failures?.length
      ? h('ul.plain', d.fleet.failures.map((f) => h('li.small', h('b', f.version), ` ${dateTime(f.at)}: ${f.reason}`)))
      : '–'),
    h('dt', t('devices.components')), h('dd', components(hl?.components)));
}

/** Version, and the rollout's state for this kiosk (stage, confirmed / failed). */
function versionCell(f) {
  if (!f) return '–';
  const r = f.rollout;
  if (!r || r.deviceState === 'confirmed' && r.version === f.version) return f.version ?? '–';
  const tone = r.deviceState === 'failed' ? 'bad' : r.deviceState === 'confirmed' ? 'ok' : 'warn';
  return h('span', { title: r.reason ?? '' }, f.version ?? '?', ' ', badge(`→ ${r.version}: ${t(`fleet.state.${r.deviceState}`)}`, tone));
}
function rolloutText(f) {
  const r = f?.rollout;
  if (!r) return '–';
  return `#${r.id} ${r.version} (${t(`fleet.rstate.${r.state}`)}) · ${t('fleet.stage')} ${r.stage + 1} ${r.stageName} · ${t(`fleet.state.${r.deviceState}`)}${r.reason ? ` — ${r.reason}` : ''}`;
}
function resultText(c) {
  if (c.error) return c.error;
  if (c.result === null || c.result === undefined) return '';
  const s = typeof c.result === 'string' ? c.result : JSON.stringify(c.result);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}
