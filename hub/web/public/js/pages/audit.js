import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api, download } from '../api.js';
import { dateTime } from '../fmt.js';
import { badge, empty, errorBox, loading, opdPicker, table, toast } from '../ui.js';

/**
 * Log audit: every change made through the API, by kiosks and with the CLI, newest first, with
 * who, from where, what and before/after. BKPSDM sees the whole regency, exports it with its hash
 * chain and checks the chain; an OPD admin sees the entries of their OPD.
 */
export async function renderAudit(main, { session, params, setParams }) {
  const bkpsdm = session.user.role === 'bkpsdm';
  const opd = bkpsdm ? params.opd ?? '' : session.user.opdCode;
  const action = params.aksi ?? '';
  const offset = Number(params.dari ?? 0) || 0;
  const body = h('div', loading());
  const verifyEl = h('div');
  const actionInput = h('input', { type: 'search', value: action, placeholder: t('audit.action_hint'), 'aria-label': t('audit.action') });
  const tools = [
    opdPicker(session, opd, (o) => setParams({ opd: o, aksi: action }), { allowAll: true }),
    h('form.inline', { onsubmit: (e) => (e.preventDefault(), setParams({ opd, aksi: actionInput.value.trim() })) }, h('label', t('audit.action'), ' ', actionInput), h('button', { type: 'submit' }, t('common.show'))),
  ];
  if (bkpsdm) {
    tools.push(
      h('button.secondary', { type: 'button', onclick: () => exportLog('jsonl') }, `${t('common.download')} JSONL`),
      h('button.secondary', { type: 'button', onclick: () => exportLog('csv') }, `${t('common.download')} CSV`),
      h('button', { type: 'button', 'data-testid': 'audit-verify', onclick: verify }, t('audit.verify')),
    );
  }
  fill(main, h('div.page-head', h('h1', t('audit.title')), h('p.muted', t(bkpsdm ? 'audit.sub_all' : 'audit.sub_opd'))), h('div.toolbar', tools), verifyEl, body);

  async function exportLog(format) {
    try {
      toast(t('audit.exported', { name: await download('/audit/export', { format, opd: opd || undefined }, `hadir-audit.${format}`) }));
    } catch (e) {
      toast(e.message, 'bad');
    }
  }
  async function verify() {
    fill(verifyEl, loading());
    try {
      const r = await api('/audit/verify');
      fill(verifyEl, h('section.panel', { 'data-testid': 'audit-verify-result' },
        r.ok ? badge(t('audit.intact', { n: r.entries }), 'ok') : badge(t('audit.tampered', { n: r.problems.length }), 'bad'),
        h('p.mono.small', `head ${r.head}`),
        r.ok ? null : h('ul', r.problems.map((p) => h('li', p.detail)))));
    } catch (e) {
      fill(verifyEl, errorBox(e, verify));
    }
  }
  const show = (v) => (v === null || v === undefined ? '–' : h('code.small', JSON.stringify(v).slice(0, 300)));
  const load = async () => {
    try {
      const r = await api('/audit', { query: { opd: bkpsdm ? opd || undefined : undefined, action: action || undefined, limit: 100, offset } });
      if (!r.items.length) return fill(body, empty(t('state.empty')));
      fill(body,
        table([
          { label: '#', value: (x) => String(x.id), cls: 'num' },
          { label: t('common.time'), value: (x) => dateTime(x.at) },
          { label: t('audit.who'), value: (x) => h('span', x.actor, h('small', ` ${x.role ?? x.actorKind}`)) },
          { label: t('audit.from'), value: (x) => x.source ?? '–', cls: 'mono' },
          { label: t('audit.action'), value: (x) => x.action, cls: 'mono' },
          { label: t('audit.target'), value: (x) => x.target ?? '–', cls: 'mono' },
          { label: t('common.opd'), value: (x) => x.opdCode ?? '–' },
          { label: t('audit.before'), value: (x) => show(x.before) },
          { label: t('audit.after'), value: (x) => show(x.after) },
        ], r.items, { cls: 'audit' }),
        h('p.muted', t('audit.count', { from: offset + 1, to: offset + r.items.length, total: r.total }), ' ',
          offset > 0 ? h('a', { href: '#', onclick: (e) => (e.preventDefault(), setParams({ opd, aksi: action, dari: Math.max(0, offset - 100) })) }, '‹') : null, ' ',
          r.nextOffset !== null ? h('a', { href: '#', onclick: (e) => (e.preventDefault(), setParams({ opd, aksi: action, dari: r.nextOffset })) }, '›') : null));
    } catch (e) {
      fill(body, errorBox(e, load));
    }
  };
  await load();
}
