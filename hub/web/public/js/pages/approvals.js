import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { date, dateTime, offset, officeInstant } from '../fmt.js';
import { empty, errorBox, loading, opdPicker, parseDate, table, toast } from '../ui.js';

/**
 * Persetujuan: pending leave / duty travel (approve, reject) and clock-unverified punches (accept
 * as stamped, accept at the suggested or a corrected time, reject). Every decision goes through
 * the attendance API, which records who made it and re-derives the affected days.
 */
export async function renderApprovals(main, { session, params, setParams }) {
  const opd = session.user.role === 'bkpsdm' ? params.opd ?? '' : session.user.opdCode;
  const q = { opd: session.user.role === 'bkpsdm' ? opd : undefined };
  const excEl = h('div', loading());
  const punchEl = h('div', loading());
  const kebEl = h('div', loading());
  fill(main,
    h('div.page-head', h('h1', t('appr.title'))),
    h('div.toolbar', opdPicker(session, opd, (o) => setParams({ opd: o }), { allowAll: true })),
    h('section.panel', h('h2', t('appr.keberatan')), kebEl),
    h('section.panel', h('h2', t('appr.exceptions')), requestForm(() => loadExceptions()), excEl),
    h('section.panel', h('h2', t('appr.punches')), punchEl));

  const act = async (btn, path, body, reload) => {
    btn.disabled = true;
    try {
      await api(path, { method: 'POST', body });
      toast(t('appr.done'));
      await reload();
    } catch (e) {
      toast(e.message, 'bad');
      btn.disabled = false;
    }
  };

  async function loadExceptions() {
    try {
      const rows = await api('/exceptions', { query: { status: 'pending', ...q } });
      if (!rows.length) return fill(excEl, empty(t('appr.none_exc')));
      fill(excEl, table([
        { label: t('common.nip'), value: (x) => x.nip, cls: 'mono' },
        { label: t('common.name'), value: (x) => x.name, cls: 'name' },
        { label: t('appr.type'), value: (x) => t(`status.${x.type}`) },
        { label: t('appr.from'), value: (x) => date(x.from_date) },
        { label: t('appr.to'), value: (x) => date(x.to_date) },
        { label: t('appr.note'), value: (x) => [x.note, x.evidence].filter(Boolean).join(' · ') || '–' },
        { label: t('appr.requested_by'), value: (x) => `${x.requested_by} · ${dateTime(x.requested_at)}` },
        { label: '', cls: 'act', value: (x) => h('span.actions',
            h('button.small', { type: 'button', onclick: (e) => act(e.target, `/exceptions/${x.id}/approve`, undefined, loadExceptions) }, t('appr.approve')),
            h('button.small.danger', { type: 'button', onclick: (e) => confirm(t('appr.confirm_reject', { what: `${t(`status.${x.type}`)} ${x.name}` })) && act(e.target, `/exceptions/${x.id}/reject`, undefined, loadExceptions) }, t('appr.reject'))) },
      ], rows));
    } catch (e) {
      fill(excEl, errorBox(e, loadExceptions));
    }
  }

  /** Keberatan (correction requests) staff filed from their page: approve / reject with a note. */
  async function loadKeberatan() {
    try {
      const rows = await api('/keberatan', { query: { status: 'pending', ...q } });
      if (!rows.length) return fill(kebEl, empty(t('appr.none_keb')));
      fill(kebEl, table([
        { label: t('common.nip'), value: (x) => x.nip, cls: 'mono' },
        { label: t('common.name'), value: (x) => x.name, cls: 'name' },
        { label: t('tpp.date'), value: (x) => date(x.date) },
        { label: t('appr.reason'), value: (x) => x.reason },
        { label: t('appr.filed'), value: (x) => dateTime(x.createdAt) },
        { label: '', cls: 'act', value: (x) => {
            const note = h('input', { type: 'text', size: 18, placeholder: t('appr.note'), 'aria-label': t('appr.note') });
            const body = (action) => ({ action, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
            return h('span.actions', note,
              h('button.small', { type: 'button', onclick: (e) => act(e.target, `/keberatan/${x.id}/decide`, body('approve'), loadKeberatan) }, t('appr.approve')),
              h('button.small.danger', { type: 'button', onclick: (e) => act(e.target, `/keberatan/${x.id}/decide`, body('reject'), loadKeberatan) }, t('appr.reject')));
          } },
      ], rows));
    } catch (e) {
      fill(kebEl, errorBox(e, loadKeberatan));
    }
  }

  /** Per kiosk and period: review all its clock-unverified punches at once. */
  function bulk(rows) {
    const by = new Map();
    for (const x of rows) {
      if (!x.device_id) continue;
      const g = by.get(x.device_id) ?? { n: 0, sugg: 0, from: x.captured_at, to: x.captured_at };
      g.n++;
      if (x.suggested_at) g.sugg++;
      if (x.captured_at < g.from) g.from = x.captured_at;
      if (x.captured_at > g.to) g.to = x.captured_at;
      by.set(x.device_id, g);
    }
    if (!by.size) return null;
    return h('div.bulk', { 'data-testid': 'bulk' }, h('h3', t('appr.bulk')),
      table([
        { label: t('appr.device'), value: ([d]) => d },
        { label: t('appr.period'), value: ([, g]) => `${dateTime(g.from)} – ${dateTime(g.to)}` },
        { label: t('appr.count'), value: ([, g]) => `${g.n} (${t('appr.with_suggestion', { n: g.sugg })})`, cls: 'num' },
        { label: '', cls: 'act', value: ([d, g]) => {
            const body = (action) => ({ device: d, from: g.from, to: new Date(Date.parse(g.to) + 1).toISOString(), action });
            return h('span.actions',
              h('button.small', { type: 'button', disabled: !g.sugg, onclick: (e) => act(e.target, '/punches/review-bulk', body('suggested'), loadPunches) }, t('appr.bulk_suggested', { n: g.sugg })),
              h('button.small.secondary', { type: 'button', onclick: (e) => act(e.target, '/punches/review-bulk', body('accept'), loadPunches) }, t('appr.bulk_accept', { n: g.n })),
              h('button.small.danger', { type: 'button', onclick: (e) => confirm(t('appr.confirm_reject', { what: `${g.n} × ${d}` })) && act(e.target, '/punches/review-bulk', body('reject'), loadPunches) }, t('appr.bulk_reject')));
          } },
      ], [...by.entries()]));
  }

  async function loadPunches() {
    try {
      const rows = await api('/punches/pending', { query: q });
      if (!rows.length) return fill(punchEl, empty(t('appr.none_punch')));
      fill(punchEl, bulk(rows), table([
        { label: t('common.nip'), value: (x) => x.nip, cls: 'mono' },
        { label: t('common.name'), value: (x) => x.name ?? '–', cls: 'name' },
        { label: t('appr.device'), value: (x) => x.device_id ?? x.site_code ?? '–' },
        { label: t('appr.captured'), value: (x) => dateTime(x.captured_at) },
        { label: t('appr.clock'), value: (x) => `${x.clock_source ?? '–'}${x.clock_offset_ms !== null && x.clock_offset_ms !== undefined ? ` (${offset(x.clock_offset_ms)})` : ''}` },
        { label: t('appr.suggested'), value: (x) => (x.suggested_at ? dateTime(x.suggested_at) : '–') },
        { label: '', cls: 'act', value: (x) => {
            const when = h('input', { type: 'text', size: 16, value: dateTime(x.suggested_at ?? x.captured_at), placeholder: 'dd/mm/yyyy hh:mm', 'aria-label': t('appr.correct') });
            return h('span.actions',
              h('button.small', { type: 'button', onclick: (e) => act(e.target, `/punches/${encodeURIComponent(x.id)}/review`, x.suggested_at ? { action: 'accept', useSuggested: true } : { action: 'accept' }, loadPunches) }, x.suggested_at ? `${t('appr.accept')} (${t('appr.suggested').toLowerCase()})` : t('appr.accept')),
              h('span.correct', when, h('button.small.secondary', { type: 'button', onclick: (e) => {
                const at = parseDateTime(when.value);
                if (!at) return toast(t('appr.bad_time'), 'bad');
                act(e.target, `/punches/${encodeURIComponent(x.id)}/review`, { action: 'accept', correctedAt: at }, loadPunches);
              } }, t('appr.correct'))),
              h('button.small.danger', { type: 'button', onclick: (e) => confirm(t('appr.confirm_reject', { what: `punch ${x.name ?? x.nip} ${dateTime(x.captured_at)}` })) && act(e.target, `/punches/${encodeURIComponent(x.id)}/review`, { action: 'reject' }, loadPunches) }, t('appr.reject')));
          } },
      ], rows));
    } catch (e) {
      fill(punchEl, errorBox(e, loadPunches));
    }
  }

  await Promise.all([loadKeberatan(), loadExceptions(), loadPunches()]);
}

const TYPES = ['cuti_tahunan', 'cuti_sakit', 'cuti_besar', 'cuti_melahirkan', 'cuti_alasan_penting', 'cltn', 'dinas_luar', 'tugas_belajar'];

/** "Ajukan cuti / dinas luar": files a request (it then waits here for approval like any other). */
function requestForm(reload) {
  const nip = h('input', { name: 'nip', required: true, inputmode: 'numeric', size: 20, placeholder: '18 digit' });
  const type = h('select', { name: 'type' }, TYPES.map((x) => h('option', { value: x }, t(`status.${x}`))));
  const from = h('input', { name: 'from', required: true, size: 10, placeholder: 'dd/mm/yyyy' });
  const to = h('input', { name: 'to', required: true, size: 10, placeholder: 'dd/mm/yyyy' });
  const evidence = h('input', { name: 'evidence', size: 22, placeholder: t('appr.evidence_hint') });
  const note = h('input', { name: 'note', size: 22 });
  const btn = h('button', { type: 'submit' }, t('appr.submit'));
  const field = (label, el) => h('label.field', h('span', label), el);
  return h('details.request', h('summary', t('appr.new')),
    h('form.inline', {
      onsubmit: async (e) => {
        e.preventDefault();
        const f = parseDate(from.value), tt = parseDate(to.value);
        if (!f || !tt) return toast(t('appr.bad_date'), 'bad');
        btn.disabled = true;
        try {
          await api('/exceptions', { method: 'POST', body: { nip: nip.value.trim(), type: type.value, from: f, to: tt, ...(evidence.value.trim() ? { evidence: evidence.value.trim() } : {}), ...(note.value.trim() ? { note: note.value.trim() } : {}) } });
          toast(t('appr.done'));
          e.target.reset();
          await reload();
        } catch (err) {
          toast(err.message, 'bad');
        } finally {
          btn.disabled = false;
        }
      },
    }, field(t('common.nip'), nip), field(t('appr.type'), type), field(t('appr.from'), from), field(t('appr.to'), to), field(t('appr.evidence'), evidence), field(t('appr.note'), note), btn));
}

const pad = (n) => String(n).padStart(2, '0');
/**
 * "05/10/2026 07:41" (the office's zone, whatever the browser's) → "2026-10-05T07:41:00+07:00", the form
 * the API wants; null when it is not a real date and time.
 */
export function parseDateTime(s) {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2})[:.](\d{2})\s*$/.exec(s);
  if (!m) return null;
  const [d, mo, y, hh, mm] = m.slice(1).map(Number);
  const dt = new Date(Date.UTC(y, mo - 1, d, hh, mm));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || dt.getUTCHours() !== hh || dt.getUTCMinutes() !== mm) return null;
  return officeInstant(y, mo, d, hh, mm);
}
