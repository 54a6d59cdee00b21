import { h } from '../dom.js';
import { lang, setLang, t } from '../i18n.js';
import { api, ApiError } from '../api.js';

/** Masuk: username + password → a web-session token from POST /api/v1/auth/login. */
export function renderLogin({ notice, onLogin }) {
  const msg = h('p.form-error', { role: 'alert', hidden: !notice }, notice ?? '');
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true, autocapitalize: 'none', spellcheck: false });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit' }, t('auth.submit'));
  const form = h('form.login', {
    onsubmit: async (e) => {
      e.preventDefault();
      btn.disabled = true;
      btn.textContent = t('auth.busy');
      msg.hidden = true;
      try {
        const res = await api('/auth/login', { method: 'POST', body: { username: user.value.trim(), password: pass.value } });
        await onLogin(res);
      } catch (err) {
        msg.textContent = err instanceof ApiError && err.status === 0 ? t('state.offline') : err.message;
        msg.className = 'form-error';
        msg.hidden = false;
        pass.value = '';
        pass.focus();
      } finally {
        btn.disabled = false;
        btn.textContent = t('auth.submit');
      }
    },
  },
  h('div.login-head', h('span.logo.big', { 'aria-hidden': 'true' }, 'H'), h('div', h('h1', t('auth.title')), h('p.muted', t('auth.subtitle')))),
  msg,
  h('label.field.stack', h('span', t('auth.username')), user),
  h('label.field.stack', h('span', t('auth.password')), pass),
  btn,
  h('p.muted.small', t('auth.hint')),
  h('button.link', { type: 'button', onclick: () => { setLang(lang() === 'id' ? 'en' : 'id'); location.reload(); } }, t('lang.switch')));
  return h('div.login-wrap', form);
}
