import { h } from './dom.js';
import { t } from './i18n.js';
import { date, isoDate, isoMonth, monthLabel } from './fmt.js';

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

/** A figure card; with `href` it is a link to the page that explains the figure. */
export function card(label, value, sub, tone, href) {
  return h(href ? 'a.card' : 'div.card', { href, class: tone ? `tone-${tone}` : undefined }, h('div.card-label', label), h('div.card-value', value), sub ? h('div.card-sub', sub) : null);
}

export function badge(text, tone) {
  return h('span.badge', { class: tone ? `tone-${tone}` : undefined }, text);
}

/** Month choice: the last 24 months (and the chosen one, if older), named in the UI language. */
export function monthPicker(value, onChange) {
  const [y, m] = isoMonth().split('-').map(Number);
  const months = Array.from({ length: 24 }, (_, i) => new Date(Date.UTC(y, m - 1 - i, 1)).toISOString().slice(0, 7));
  if (!months.includes(value)) months.push(value);
  return h('label.field', h('span', t('common.month')),
    h('select', { 'aria-label': t('common.month'), 'data-testid': 'month', onchange: (e) => onChange(e.target.value) },
      months.map((m) => h('option', { value: m, selected: m === value }, monthLabel(m)))));
}

/**
 * A date typed as dd/mm/yyyy (the office convention, whatever the browser's locale) with
 * previous/next-day buttons; calls onChange with YYYY-MM-DD.
 */
export function dateField(label, iso, onChange, { max } = {}) {
  const input = h('input', { type: 'text', inputmode: 'numeric', size: 10, value: date(iso), placeholder: 'dd/mm/yyyy', 'aria-label': label, pattern: '\\d{1,2}/\\d{1,2}/\\d{4}' });
  const step = (n) => {
    const d = new Date(`${iso}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    const next = d.toISOString().slice(0, 10);
    if (!max || next <= max) onChange(next);
  };
  input.addEventListener('input', () => input.setCustomValidity(''));
  input.addEventListener('change', () => {
    const v = parseDate(input.value);
    if (v) onChange(v);
    else input.setCustomValidity('dd/mm/yyyy'), input.reportValidity();
  });
  return h('label.field', h('span', label), h('span.date-field',
    h('button.secondary.small', { type: 'button', 'aria-label': '−1', onclick: () => step(-1) }, '‹'), input,
    h('button.secondary.small', { type: 'button', 'aria-label': '+1', disabled: !!max && iso >= max, onclick: () => step(1) }, '›')));
}

/** "5/10/2026" → "2026-10-05"; null when it is not a real date. */
export function parseDate(s) {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(s);
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(y, mo - 1, d);
  if (dt.getFullYear() !== y || dt.getMonth() !== mo - 1 || dt.getDate() !== d) return null;
  return isoDate(dt);
}

/** OPD choice: BKPSDM picks any (or all, when allowed); an OPD admin's is fixed to theirs. */
export function opdPicker(session, value, onChange, { allowAll = false } = {}) {
  const opds = session.opds ?? [];
  if (session.user.role !== 'bkpsdm') {
    const own = opds[0];
    return h('label.field', h('span', t('common.opd')), h('select', { disabled: true, 'data-testid': 'opd' }, h('option', { value: own?.code ?? '' }, own ? `${own.name} (${own.code})` : session.user.opdCode)));
  }
  const sel = h('select', { 'aria-label': t('common.opd'), 'data-testid': 'opd', onchange: (e) => onChange(e.target.value) },
    allowAll ? h('option', { value: '' }, t('common.all_opd')) : null,
    opds.map((o) => h('option', { value: o.code, selected: o.code === value }, `${o.name} (${o.code})`)));
  if (!value && allowAll) sel.value = '';
  return h('label.field', h('span', t('common.opd')), sel);
}

/** A search box that hides table rows not containing the text (name, NIP, unit). */
export function rowFilter(getTable) {
  return h('label.field', h('span', t('common.search')),
    h('input', { type: 'search', placeholder: t('common.search_hint'), 'data-testid': 'filter', oninput: (e) => {
      const q = e.target.value.trim().toLowerCase();
      for (const tr of getTable()?.querySelectorAll('tbody > tr:not(.expand)') ?? []) {
        const hide = !!q && !tr.textContent.toLowerCase().includes(q);
        tr.hidden = hide;
        const next = tr.nextElementSibling;
        if (next?.classList.contains('expand')) next.hidden = hide;
      }
    } }));
}

let toastTimer;
export function toast(msg, tone = 'ok') {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', { id: 'toast', role: 'status', 'aria-live': 'polite', onclick: () => (el.className = '') });
    document.body.append(el);
  }
  el.textContent = msg;
  el.className = `show tone-${tone}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ''), 4000);
}
