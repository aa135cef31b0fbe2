// The login page (/login): user name and password. After a login the app returns to the page
// the user asked for (`?next=`); a session that ended while the app was open says so here.

import { announce, h, replace, uid } from '../dom.js';
import { formErrorBox } from '../forms.js';
import { navigate } from '../router.js';
import { logIn } from '../session.js';

export const LOGIN_PATH = '/login';
const HOME = '/inventory';

/** The login page's address for a visitor who wanted `wanted` (a path with its query). */
export function loginPathFor(wanted, { expired = false } = {}) {
  const params = new URLSearchParams();
  if (wanted && wanted !== '/' && wanted !== HOME && !wanted.startsWith(LOGIN_PATH)) params.set('next', wanted);
  if (expired) params.set('expired', '1');
  const search = params.toString();
  return search ? `${LOGIN_PATH}?${search}` : LOGIN_PATH;
}

/** Where to go after logging in: `next` when it is a path of this app, else the inventory. */
export function returnPath(params) {
  const next = params.get('next') ?? '';
  // Only a same-origin path: '//host' and '/\host' would leave the site.
  const local = next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\');
  return local && !next.startsWith(LOGIN_PATH) ? next : HOME;
}

export class LoginPage extends HTMLElement {
  connectedCallback() {
    const params = new URLSearchParams(location.search);
    this.username = h('input', {
      type: 'text', name: 'username', id: uid('username'), autocomplete: 'username', required: true,
      autocapitalize: 'none', spellcheck: false,
    });
    this.password = h('input', {
      type: 'password', name: 'password', id: uid('password'), autocomplete: 'current-password', required: true,
    });
    this.error = formErrorBox();
    this.submit = h('button', { type: 'submit', class: 'primary', text: 'Log in' });
    const form = h('form', { class: 'login-form card', noValidate: true, attrs: { 'aria-labelledby': 'login-heading' } },
      h('h1', { id: 'login-heading', text: 'Log in to Boltdeck' }),
      params.get('expired') ? h('p', { class: 'notice', text: 'Your session has ended. Log in again to continue.' }) : null,
      this.error,
      h('div', { class: 'field' }, h('label', { htmlFor: this.username.id, text: 'User name' }), this.username),
      h('div', { class: 'field' }, h('label', { htmlFor: this.password.id, text: 'Password' }), this.password),
      h('div', { class: 'form-actions' }, this.submit));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.logIn();
    });
    replace(this, form);
    setTimeout(() => this.username.focus()); // after the router has focused <main>
  }

  async logIn() {
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.showError('Enter your user name and password.');
      (username ? this.password : this.username).focus();
      return;
    }
    this.submit.disabled = true;
    try {
      const who = await logIn(username, password);
      announce(`Logged in as ${who.name}`);
      navigate(returnPath(new URLSearchParams(location.search)), { replace: true });
    } catch (error) {
      this.password.value = '';
      this.showError(error.status ? error.message : `Boltdeck's server did not answer (${error.message}).`);
      this.password.focus();
    } finally {
      this.submit.disabled = false;
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
