import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { ago, dateTime, isoMonth, num, rupiah, startOfDay, time, zoneName } from '../fmt.js';
import { card, empty, errorBox, loading, table } from '../ui.js';

/** Ringkasan: today's punches, late, kiosks online/offline, open alerts; refreshes every 60 s. */
export async function renderSummary(main) {
  const body = h('div');
  const stamp = h('span.muted.small');
  fill(main, h('div.page-head', h('h1', t('summary.title')), stamp, h('button.secondary', { type: 'button', onclick: () => load() }, t('common.refresh'))), body);

  async function load() {
    if (!body.firstChild) body.append(loading());
    try {
      const [punches, late, devices, alerts, exc, pend, tpp, keb] = await Promise.all([
        // the LATEST 8 of the office's today (newest first), not the day's first 8
        api('/punches', { query: { from: startOfDay(), limit: 8, order: 'desc' } }),
        api('/reports/late-today'),
        api('/devices'),
        api('/alerts', { query: { status: 'open' } }),
        api('/exceptions', { query: { status: 'pending' } }).catch(() => []),
        api('/punches/pending').catch(() => []),
        // TPP of the running month on the first screen; no rule yet → the card says so (not an error box)
        api('/reports/tpp', { query: { month: isoMonth() } }).catch((e) => ({ error: e })),
        api('/keberatan', { query: { status: 'pending' } }).catch(() => []),
      ]);
      const ds = devices.items.filter((d) => !d.disabled && d.enrolled);
      const online = ds.filter((d) => d.online);
      const offline = ds.filter((d) => !d.online);
      const backlog = ds.reduce((s, d) => s + (d.backlog.undelivered ?? 0), 0);
      const crit = alerts.items.filter((a) => a.severity === 'critical' && !a.ackedAt).length;
      fill(body,
        h('div.cards',
          card(t('summary.punches'), num(punches.total), null),
          card(t('summary.late'), num(late.late.length), null, late.late.length ? 'warn' : 'ok', '#/terlambat'),
          card(t('summary.not_in'), num(late.not_in.length), null, late.not_in.length ? 'warn' : 'ok', '#/terlambat'),
          card(t('summary.online'), num(online.length), t('summary.of', { n: ds.length }), 'ok', '#/terminal'),
          card(t('summary.offline'), num(offline.length), null, offline.length ? 'bad' : 'ok', '#/terminal'),
          card(t('summary.alerts'), num(alerts.items.length), crit ? `${crit} ${t('sev.critical')}` : null, alerts.items.length ? (crit ? 'bad' : 'warn') : 'ok', '#/terminal'),
          card(t('summary.backlog'), num(backlog), null, backlog ? 'warn' : 'ok', '#/terminal'),
          card(t('summary.pending'), num(exc.length + pend.length + keb.length), null, exc.length + pend.length + keb.length ? 'warn' : 'ok', '#/persetujuan'),
          tpp.error
            ? card(t('summary.tpp'), '–', tpp.error.message, 'warn', '#/tpp')
            : card(t('summary.tpp'), rupiah(tpp.reduce((a, r) => a + r.total, 0)), t('summary.tpp_sub', { n: num(tpp.length) }), 'ok', '#/tpp'),
        ),
        h('section.panel', { 'data-testid': 'late-list' }, h('h2', h('a', { href: '#/terlambat' }, t('summary.late_list'))),
          late.late.length
            ? table([
                { label: t('common.name'), value: (x) => x.name, cls: 'name' },
                { label: t('common.time'), value: (x) => (x.in ? `${x.in} ${zoneName()}` : '–'), cls: 'num' },
                { label: t('tpp.minutes_late'), value: (x) => t('summary.minutes', { n: x.minutes_late }), cls: 'num' },
              ], late.late.slice(0, 8))
            : empty(t('summary.no_late'))),
        h('div.grid2',
          h('section.panel', h('h2', t('summary.offline_list')),
            offline.length
              ? table([
                  { label: t('devices.id'), value: (d) => h('a', { href: `#/terminal?d=${encodeURIComponent(d.id)}` }, d.id) },
                  { label: t('common.site'), value: (d) => d.siteCode },
                  { label: t('devices.last_seen'), value: (d) => (d.lastSeenAt ? h('span', { title: dateTime(d.lastSeenAt) }, ago(d.lastSeenAt)) : t('devices.never')) },
                ], offline)
              : empty(t('summary.no_offline'))),
          h('section.panel', h('h2', t('summary.recent')),
            punches.items.length
              ? table([
                  { label: t('common.time'), value: (p) => time(p.capturedAt), cls: 'num' },
                  { label: t('common.nip'), value: (p) => p.nip, cls: 'mono' },
                  { label: t('devices.id'), value: (p) => p.deviceId ?? p.method },
                ], punches.items)
              : empty()),
        ));
      stamp.textContent = t('common.updated', { t: time(new Date().toISOString()) });
    } catch (e) {
      fill(body, errorBox(e, load));
    }
  }
  await load();
  const timer = setInterval(load, 60_000);
  return () => clearInterval(timer);
}
