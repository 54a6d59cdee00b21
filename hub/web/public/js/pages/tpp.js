import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { date, monthLabel, pct, rupiah } from '../fmt.js';
import { badge, empty, errorBox, loading, monthPicker, opdPicker, rowFilter, table } from '../ui.js';
import { STATUS_TONE, downloads, pickScope } from './attendance.js';

/**
 * TPP: per employee base, deduction %, disiplin, produktivitas and total in rupiah (the report
 * API's numbers, not recomputed here); a row opens to the days and rule lines behind its deduction.
 */
export async function renderTpp(main, { session, params, setParams }) {
  const { month, opd } = pickScope(session, params, { allowAll: true });
  const q = { month, opd: session.user.role === 'bkpsdm' ? opd : undefined };
  const body = h('div');
  fill(main,
    h('div.page-head', h('h1', t('tpp.title')), h('span.muted', monthLabel(month))),
    h('div.toolbar',
      monthPicker(month, (m) => setParams({ bulan: m, opd })),
      opdPicker(session, opd, (o) => setParams({ bulan: month, opd: o }), { allowAll: true }),
      rowFilter(() => body.querySelector('table.tpp')),
      downloads('/reports/tpp', q, `tpp-${month}`)),
    body);
  body.append(loading());
  try {
    const rows = await api('/reports/tpp', { query: q });
    if (!rows.length) return fill(body, empty(t('att.empty')));
    const open = new Set();
    const missing = rows.filter((r) => r.produktivitas_missing).length;
    const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
    const draw = () =>
      table([
        { label: '', cls: 'toggle', value: (r) => h('button.link.small', { type: 'button', 'aria-expanded': String(open.has(r.nip)), 'aria-label': t('tpp.expand'), onclick: () => { open.has(r.nip) ? open.delete(r.nip) : open.add(r.nip); fill(wrap, draw()); } }, open.has(r.nip) ? '▾' : '▸') },
        { label: t('common.nip'), value: (r) => r.nip, cls: 'mono' },
        { label: t('common.name'), value: (r) => (opd ? r.name : h('span', r.name, h('small.block.muted', r.opd_name ?? r.opd ?? ''))), cls: 'name' },
        { label: t('tpp.base'), value: (r) => rupiah(r.base), cls: 'num' },
        { label: t('tpp.deduction'), value: (r) => h('span', { title: `${t('tpp.applied')}: ${pct(r.applied_pct)} (${t('tpp.cap', { n: pct(r.cap_pct) })})` }, pct(r.deduction_pct), r.deduction_pct > r.cap_pct ? h('small.block', t('tpp.cap', { n: pct(r.cap_pct) })) : null), cls: 'num', key: 'deduction' },
        { label: t('tpp.disiplin'), value: (r) => rupiah(r.disiplin), cls: 'num' },
        { label: t('tpp.score'), value: (r) => (r.produktivitas_missing ? badge(t('tpp.missing_score'), 'warn') : String(r.produktivitas_score)), cls: 'num', key: 'score' },
        { label: t('tpp.produktivitas'), value: (r) => rupiah(r.produktivitas), cls: 'num' },
        { label: t('tpp.total'), value: (r) => h('b', rupiah(r.total)), cls: 'num', key: 'total' },
      ], rows, {
        cls: 'tpp',
        rowClass: (r) => (r.produktivitas_missing ? 'missing-score' : undefined),
        extra: (r) => (open.has(r.nip) ? h('tr.expand', h('td', { colSpan: 9 }, dayDetail(r))) : null),
        foot: h('tr', h('td', { colSpan: 3 }, t('tpp.sum')), h('td.num', rupiah(sum('base'))), h('td'), h('td.num', rupiah(sum('disiplin'))), h('td'), h('td.num', rupiah(sum('produktivitas'))), h('td.num', { 'data-k': 'sum-total' }, h('b', rupiah(sum('total'))))),
      });
    const wrap = h('div', draw());
    fill(body, missing ? h('p.notice.tone-warn', t('tpp.missing_scores', { n: missing })) : null, wrap);
  } catch (e) {
    fill(body, errorBox(e, () => renderTpp(main, { session, params, setParams })));
  }
}

function dayDetail(r) {
  const days = r.days.filter((d) => d.pct > 0);
  return h('div.day-detail',
    h('p.small.muted', `${t('tpp.rule')}: ${r.rule ?? '–'} · ${t('tpp.deduction')} ${pct(r.deduction_pct)} → ${t('tpp.applied')} ${pct(r.applied_pct)} (${t('tpp.cap', { n: pct(r.cap_pct) })})`),
    days.length
      ? table([
          { label: t('tpp.date'), value: (d) => date(d.date) },
          { label: t('tpp.status'), value: (d) => h('span', h('span.code', { class: `st-${STATUS_TONE[d.status] ?? 'off'}` }, d.code), ' ', t(`status.${d.status}`)) },
          { label: t('tpp.minutes_late'), value: (d) => d.minutes_late || '–', cls: 'num' },
          { label: t('tpp.minutes_early'), value: (d) => d.minutes_early || '–', cls: 'num' },
          { label: t('tpp.line'), value: (d) => h('ul.lines', d.lines.map((l) => h('li', h('span.mono', l.item), ` ${pct(l.pct)}`, h('small.muted', ` (${l.rule})`)))) },
          { label: t('tpp.deduction'), value: (d) => pct(d.pct), cls: 'num' },
        ], days, { cls: 'compact' })
      : h('p.small', t('tpp.no_deduction_days')));
}
