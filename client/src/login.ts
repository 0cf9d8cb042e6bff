/** The login form (shown when the server needs a login and there is no session). */
import { ApiError, postJson, setCsrfToken } from './api.ts';
import { h } from './dom.ts';
import type { Session } from './view-types.ts';

export function loginForm(onDone: (s: Session) => void): HTMLElement {
  const error = h('p', { class: 'error-box', attrs: { role: 'alert', id: 'login-error', hidden: true } });
  const user = h('input', { attrs: { id: 'login-user', name: 'username', autocomplete: 'username', required: true } });
  const pass = h('input', { attrs: { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true } });
  const submit = h('button', { class: 'button primary', attrs: { type: 'submit' } }, 'Log in');
  const form = h(
    'form',
    { class: 'login card', attrs: { id: 'login-form' } },
    h('h1', null, 'dmarc-lens'),
    h('p', { class: 'muted' }, 'Log in to see your DMARC reports.'),
    h('label', { attrs: { for: 'login-user' } }, 'User name'),
    user,
    h('label', { attrs: { for: 'login-password' } }, 'Password'),
    pass,
    error,
    submit,
    h('p', { class: 'small muted' }, 'No account yet? On the server run: dmarc-lens user add NAME'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      const s = await postJson<Session>('/api/login', { username: user.value, password: pass.value });
      setCsrfToken(s.csrfToken);
      onDone(s);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'the server could not be reached';
      error.hidden = false;
      submit.disabled = false;
      pass.value = '';
      pass.focus();
    }
  });
  return form;
}
