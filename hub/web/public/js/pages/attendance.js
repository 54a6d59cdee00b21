import { h, fill } from '../dom.js';
import { lang, t } from '../i18n.js';
import { api, download } from '../api.js';
import { date, isoMonth, monthLabel, pct } from '../fmt.js';
import { empty, errorBox, loading, monthPicker, opdPicker, rowFilter, table, toast } from '../ui.js';

/** Day status → colour class of its cell. */
export const STATUS_TONE = {
  present: 'ok', late: 'warn', early: 'warn', late_early: 'warn', missing_in: 'warn', missing_out: 'warn', missing_mid: 'warn',
  absent: 'bad', off: 'off', holiday: 'off', not_employed: 'off', future: 'off',
  cuti_tahunan: 'info', cuti_besar: 'info', cuti_sakit: 'info', cuti_melahirkan: 'info', cuti_alasan_penting: 'info', cltn: 'info', dinas_luar: 'info', tugas_belajar: 'info',
};

/** Month and OPD from the URL; an OPD admin's OPD is theirs whatever the URL says. */
export function pickScope(session, params, { allowAll = false } = {}) {
  const month = /^\d{4}-\d{2}$/.test(params.bulan ?? '') ? params.bulan : isoMonth();
  const first = session.opds?.[0]?.code ?? '';
  const opd = session.user.role !== 'bkpsdm' ? session.user.opdCode : allowAll ? (params.opd ?? '') : params.opd || first;
  return { month, opd };
}

export function downloads(path, q, base) {
  return h('div.downloads', h('span.muted', `${t('common.download')}:`),
    ['csv', 'xlsx', 'pdf'].map((f) => h('button.secondary.small', {
      type: 'button', 'data-format': f,
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          // CSV in the dialect of the UI language: Excel in an Indonesian locale splits on ';' and reads ',' decimals.
          const name = await download(path, { ...q, format: f, ...(f === 'csv' ? { csv_dialect: lang() } : {}) }, `${base}.${f}`);
          toast(`${t('common.download')}: ${name}`);
        } catch (err) {
          toast(err.message, 'bad');
        } finally {
          e.target.disabled = false;
        }
      },
    }, f.toUpperCase())));
}

/** Presensi: monthly attendance of one OPD with each day's status code, and report downloads. */
export async function renderAttendance(main, { session, params, setParams }) {
  const { month, opd } = pickScope(session, params);
  const q = { month, opd: session.user.role === 'bkpsdm' ? opd : undefined };
  const body = h('div');
  fill(main,
    h('div.page-head', h('h1', t('att.title')), h('span.muted', monthLabel(month))),
    h('div.toolbar',
      monthPicker(month, (m) => setParams({ bulan: m, opd })),
      opdPicker(session, opd, (o) => setParams({ bulan: month, opd: o })),
      rowFilter(() => body.querySelector('table')),
      downloads('/reports/attendance', q, `kehadiran-${month}`)),
    body);
  if (!opd) return fill(body, empty(t('att.choose_opd')));
  body.append(loading());
  try {
    const rows = await api('/reports/attendance', { query: q });
    if (!rows.length) return fill(body, empty(t('att.empty')));
    const [y, m] = month.split('-').map(Number);
    const days = Array.from({ length: new Date(y, m, 0).getDate() }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
    const dayCols = days.map((d) => ({
      label: d.slice(8), cls: 'day', title: date(d),
      value: (r) => {
        const x = r.days.find((y) => y.date === d);
        if (!x) return '';
        const tip = [date(d), t(`status.${x.status}`), x.in ? `${t('att.tip_in')} ${x.in}` : null, x.out ? `${t('att.tip_out')} ${x.out}` : null, x.minutes_late ? `${t('att.late')} ${x.minutes_late} ${t('att.tip_min')}` : null, x.minutes_early ? `${t('att.early')} ${x.minutes_early} ${t('att.tip_min')}` : null, x.pct ? pct(x.pct) : null, x.holiday].filter(Boolean).join(' · ');
        return h('span.code', { class: `st-${STATUS_TONE[x.status] ?? 'off'}`, title: tip }, x.code.split(' ')[0] || '·');
      },
    }));
    fill(body,
      h('p.muted.small', t('att.employees', { n: rows.length })),
      table([
        // name, NIP and unit in one column: the 31 day columns need the width
        { label: t('att.employee'), value: (r) => h('span', r.name, h('small.block.muted.mono', r.nip), h('small.block.muted', r.unit_name ?? r.unit ?? '')), cls: 'name sticky' },
        { label: t('att.work_days'), value: (r) => r.work_days, cls: 'num' },
        { label: t('att.present'), value: (r) => r.present_days, cls: 'num' },
        { label: t('att.late'), value: (r) => r.late_days, cls: 'num' },
        { label: t('att.early'), value: (r) => r.early_days, cls: 'num' },
        { label: t('att.missing'), value: (r) => r.missing_days, cls: 'num' },
        { label: t('att.absent'), value: (r) => r.absent_days, cls: 'num' },
        { label: t('att.excused'), value: (r) => r.excused_days, cls: 'num' },
        { label: t('att.deduction'), value: (r) => pct(r.deduction_pct), cls: 'num sep', key: 'deduction' },
        ...dayCols,
      ], rows, { cls: 'attendance', rowClass: (r) => (r.pending_review ? 'pending' : undefined) }),
      legend());
  } catch (e) {
    fill(body, errorBox(e, () => renderAttendance(main, { session, params, setParams })));
  }
}

function legend() {
  // One code, one meaning: TAP is a missing check-out (not check-in), DL is duty travel (not leave).
  const items = [['H', 'present'], ['TL1–4', 'late'], ['PSW1–4', 'early'], ['TAM', 'missing_in'], ['TAP', 'missing_out'], ['TK', 'absent'], ['CT', 'cuti_tahunan'], ['DL', 'dinas_luar'], ['L', 'off'], ['LN', 'holiday']];
  return h('details.legend', h('summary', t('att.legend')),
    h('ul', items.map(([c, s]) => h('li', h('span.code', { class: `st-${STATUS_TONE[s]}` }, c), ' ', t(`status.${s}`)))));
}
