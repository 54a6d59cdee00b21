import { h } from './dom.js';
import { t } from './i18n.js';

export const loading = () => h('p.state.loading', { role: 'status' }, t('state.loading'));
export const empty = (text) => h('p.state.empty', text ?? t('state.empty'));

/** An API failure in words an admin can act on (Indonesian first), with a retry button. */
export function errorBox(err, retry) {
  const msg = err?.status === 0 ? t('state.offline') : err?.status === 403 ? t('state.forbidden', { msg: err.message }) : t('state.error', { msg: err?.message ?? String(err) });
  return h('div.state.error', { role: 'alert' }, h('span', msg), retry ? h('button.secondary', { type: 'button', onclick: retry }, t('state.retry')) : null);
}

/**
 * A table: columns [{label, value: row => node|string, cls}], rows. `extra(row)` may return a
 * full-width detail row shown under it (expandable rows).
 */
export function table(columns, rows, opts = {}) {
  const head = h('thead', h('tr', columns.map((c) => h('th', { class: c.cls, scope: 'col', title: c.title }, c.label))));
  const body = h('tbody');
  for (const r of rows) {
    body.append(h('tr', { class: opts.rowClass?.(r) }, columns.map((c) => h('td', { class: c.cls, dataset: c.key ? { k: c.key } : undefined }, c.value(r)))));
    const x = opts.extra?.(r);
    if (x) body.append(x);
  }
  const foot = opts.foot ? h('tfoot', opts.foot) : null;
  return h('div.table-wrap', h('table', { class: opts.cls }, head, body, foot));
}

export function card(label, value, sub, tone) {
  return h('div.card', { class: tone ? `tone-${tone}` : undefined }, h('div.card-label', label), h('div.card-value', value), sub ? h('div.card-sub', sub) : null);
}

export function badge(text, tone) {
  return h('span.badge', { class: tone ? `tone-${tone}` : undefined }, text);
}

export function monthPicker(value, onChange) {
  return h('label.field', h('span', t('common.month')),
    h('input', { type: 'month', value, required: true, 'aria-label': t('common.month'), onchange: (e) => e.target.value && onChange(e.target.value) }));
}

/** OPD choice: BKPSDM picks any (or all, when allowed); an OPD admin's is fixed to theirs. */
export function opdPicker(session, value, onChange, { allowAll = false } = {}) {
  const opds = session.opds ?? [];
  if (session.user.role !== 'bkpsdm') {
    const own = opds[0];
    return h('label.field', h('span', t('common.opd')), h('select', { disabled: true }, h('option', { value: own?.code ?? '' }, own ? `${own.name} (${own.code})` : session.user.opdCode)));
  }
  const sel = h('select', { 'aria-label': t('common.opd'), onchange: (e) => onChange(e.target.value) },
    allowAll ? h('option', { value: '' }, t('common.all_opd')) : null,
    opds.map((o) => h('option', { value: o.code, selected: o.code === value }, `${o.name} (${o.code})`)));
  if (!value && allowAll) sel.value = '';
  return h('label.field', h('span', t('common.opd')), sel);
}

let toastTimer;
export function toast(msg, tone = 'ok') {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.append(el);
  }
  el.textContent = msg;
  el.className = `show tone-${tone}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ''), 4000);
}

/** Runs `load` and shows loading / error states in `el`; `show(data)` fills it. */
export async function withData(el, load, show) {
  el.replaceChildren(loading());
  try {
    const data = await load();
    el.replaceChildren();
    show(data);
  } catch (e) {
    el.replaceChildren(errorBox(e, () => withData(el, load, show)));
  }
}
