// The admin page's write side: users (create, change role, reset password, delete), a new
// API token (its secret shown once), and the policy in force (read-only).

import { api } from '../api.js';
import { h, replace, timeElement, uid } from '../dom.js';
import { session } from '../session.js';
import { confirmDialog } from './confirm-dialog.js';

const ROLES = ['viewer', 'operator', 'admin'];

/** A labelled input or select for the small admin forms. */
function labelled(label, control) {
  control.id ||= uid('admin');
  return h('div', { class: 'field' }, h('label', { htmlFor: control.id, text: label }), control);
}

/** A form that posts `read()` with `send(body)`; its status line says what happened. */
function adminForm(label, fields, submitLabel, send) {
  const status = h('p', { class: 'muted', attrs: { role: 'status' } });
  const button = h('button', { type: 'submit', class: 'primary', text: submitLabel });
  const form = h('form', { class: 'admin-form', noValidate: true, attrs: { 'aria-label': label } }, fields, button, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      status.textContent = await send();
      status.className = 'muted';
    } catch (error) {
      status.textContent = error.message;
      status.className = 'form-error';
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** A form creating a user; `changed()` reloads the page's lists. */
export function newUserForm(changed) {
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', spellcheck: false, required: true });
  const role = h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r, text: r, selected: r === 'operator' })));
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
  return adminForm('Create a user', [labelled('User name', name), labelled('Role', role), labelled('Password', password)],
    'Create user', async () => {
      await api('/api/users', { method: 'POST', body: { name: name.value.trim(), role: role.value, password: password.value } });
      const made = `User ${name.value.trim()} (${role.value}) created.`;
      name.value = '';
      password.value = '';
      changed();
      return made;
    });
}

/** One row per user with its actions: role, password reset, delete. */
export function usersTable(items, changed) {
  return h('table', { class: 'data-table users' },
    h('caption', { class: 'visually-hidden', text: 'Users' }),
    h('thead', {}, h('tr', {}, ['Name', 'Role', 'Created', 'Updated', 'Actions'].map((text) => h('th', { scope: 'col', text })))),
    h('tbody', {}, items.map((user) => userRow(user, changed))));
}

function userRow(user, changed) {
  const status = h('span', { class: 'muted', attrs: { role: 'status' } });
  // A role or password change keeps the row (and the focus); a deletion reloads the lists.
  const report = (promise, done, reload = false) => promise.then(() => { status.textContent = done; if (reload) changed(); })
    .catch((error) => { status.textContent = error.message; });
  const self = user.name === session()?.name;
  const role = h('select', {
    attrs: { 'aria-label': `Role of ${user.name}` }, disabled: self, title: self ? 'You cannot change your own role' : '',
    on: { change: () => report(api(`/api/users/${encodeURIComponent(user.name)}`, { method: 'PATCH', body: { role: role.value } }), `Role set to ${role.value}.`) },
  }, ROLES.map((r) => h('option', { value: r, text: r, selected: r === user.role })));
  const password = h('input', { type: 'password', autocomplete: 'new-password', attrs: { 'aria-label': `New password for ${user.name}` } });
  const setPassword = h('button', {
    type: 'button', text: 'Reset password', attrs: { 'aria-label': `Reset password of ${user.name}` },
    on: { click: () => report(api(`/api/users/${encodeURIComponent(user.name)}`, { method: 'PATCH', body: { password: password.value } }), 'Password changed.') },
  });
  const remove = h('button', {
    type: 'button', class: 'danger', text: 'Delete', disabled: self, attrs: { 'aria-label': `Delete user ${user.name}` },
    on: {
      click: async () => {
        const sure = await confirmDialog({ message: ['Delete the user ', h('strong', { text: user.name }), ' and revoke their tokens?'], confirmLabel: 'Delete user' });
        if (sure) report(api(`/api/users/${encodeURIComponent(user.name)}`, { method: 'DELETE' }), 'Deleted.', true);
      },
    },
  });
  return h('tr', { dataset: { name: user.name } },
    h('th', { scope: 'row', text: user.name }),
    h('td', {}, role),
    h('td', { class: 'nowrap' }, timeElement(user.createdAt)),
    h('td', { class: 'nowrap' }, timeElement(user.updatedAt)),
    h('td', {}, h('div', { class: 'row-actions' }, password, setPassword, remove), status));
}

/** A form creating an API token for a user; the secret is shown once, with a warning. */
export function newTokenForm(users, created) {
  const user = h('select', { name: 'user' }, users.map((u) => h('option', { value: u.name, text: `${u.name} (${u.role})` })));
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', placeholder: 'ci-pipeline' });
  const secretBox = h('div', { class: 'notice new-token', hidden: true, attrs: { role: 'status' } });
  const form = adminForm('Create an API token', [labelled('For user', user), labelled('Token name', name)], 'Create token', async () => {
    const token = await api('/api/tokens', { method: 'POST', body: { user: user.value, ...(name.value.trim() ? { name: name.value.trim() } : {}) } });
    replace(secretBox, h('p', { text: `Token ${token.name || token.id} for ${token.user}. Copy it now: it is shown only once.` }),
      h('code', { class: 'secret', text: token.token }));
    secretBox.hidden = false;
    name.value = '';
    created();
    return 'Token created.';
  });
  return [form, secretBox];
}

/** The policy in force, read-only: where it comes from, a reload error if any, the document. */
export async function policyPanel() {
  try {
    const { source, error, policy } = await api('/api/policy');
    return [
      h('p', {}, 'Source: ', h('code', { class: 'policy-source', text: source ?? 'built-in default' })),
      error ? h('p', { class: 'form-error', attrs: { role: 'alert' }, text: `The last reload failed, the policy below stays in force: ${error}` }) : null,
      h('pre', { class: 'json policy-document', tabIndex: 0, attrs: { 'aria-label': 'Policy document' }, text: JSON.stringify(policy, null, 2) }),
    ];
  } catch (error) {
    return h('p', { class: 'form-error', attrs: { role: 'alert' }, text: `Could not read the policy: ${error.message}` });
  }
}

/** An audit entry's detail as "key: value" lines rather than raw JSON. */
export function auditDetail(detail) {
  const entries = Object.entries(detail ?? {});
  if (!entries.length) return '–';
  return h('dl', {}, entries.map(([key, value]) => [
    h('dt', { text: key }),
    h('dd', { text: typeof value === 'object' ? JSON.stringify(value) : String(value) }),
  ]));
}
