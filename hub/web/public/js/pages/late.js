import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { date, isoDate, zoneName } from '../fmt.js';
import { dateField, empty, errorBox, loading, opdPicker, table } from '../ui.js';
import { STATUS_TONE } from './attendance.js';

/** Terlambat hari ini: late check-ins (most minutes first) and who has not checked in yet. */
export async function renderLate(main, { session, params, setParams }) {
  const opd = session.user.role === 'bkpsdm' ? params.opd ?? '' : session.user.opdCode;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(params.tanggal ?? '') ? params.tanggal : undefined;
  const body = h('div', loading());
  fill(main,
    h('div.page-head', h('h1', t('late.title'))),
    h('div.toolbar', dateField(t('late.date'), day ?? isoDate(), (d) => setParams({ opd, tanggal: d }), { max: isoDate() }), opdPicker(session, opd, (o) => setParams({ opd: o, tanggal: day }), { allowAll: true })),
    body);
  const load = async () => {
    try {
      const r = await api('/reports/late-today', { query: { date: day, opd: session.user.role === 'bkpsdm' ? opd : undefined } });
      const person = [
        { label: t('common.nip'), value: (x) => x.nip, cls: 'mono' },
        { label: t('common.name'), value: (x) => x.name, cls: 'name' },
        { label: t('common.unit'), value: (x) => x.unit ?? '–' },
      ];
      fill(body,
        h('p.muted', date(r.date)),
        h('section.panel', h('h2', `${t('late.late')} (${r.late.length})`),
          r.late.length
            ? table([...person,
                { label: t('late.start'), value: (x) => x.start ?? '–', cls: 'num' },
                { label: t('late.in'), value: (x) => (x.in ? `${x.in} ${zoneName()}` : '–'), cls: 'num' },
                { label: t('late.minutes'), value: (x) => h('span.code', { class: `st-${STATUS_TONE[x.status] ?? 'warn'}` }, `+${x.minutes_late}`), cls: 'num', key: 'minutes' },
              ], r.late, { cls: 'late' })
            : empty(t('late.none'))),
        h('section.panel', h('h2', `${t('late.not_in')} (${r.not_in.length})`),
          r.not_in.length
            ? table([...person, { label: t('late.start'), value: (x) => x.start ?? '–', cls: 'num' }, { label: t('tpp.status'), value: (x) => t(`status.${x.status}`) }], r.not_in)
            : empty(t('late.all_in'))));
    } catch (e) {
      fill(body, errorBox(e, load));
    }
  };
  await load();
  const timer = setInterval(load, 60_000);
  return () => clearInterval(timer);
}
