// The admin page (/admin): the audit log with filters and "load more", the users, and the API
// tokens with a Revoke button each. Every value is untrusted text and goes in as text.

import { api, query } from '../api.js';
import { auditDetail, newTokenForm, newUserForm, policyPanel, usersTable } from '../components/admin-accounts.js';
import { h, replace, timeElement, uid } from '../dom.js';
import { filterForm } from '../forms.js';
import { canAdmin, session } from '../session.js';

const AUDIT_PAGE = 50;
const OUTCOMES = ['ok', 'denied', 'failed'];
// The actions the server records (backend/boltdeck/auth/audit.py).
const ACTIONS = [
  'login', 'login_failed', 'logout', 'run', 'rerun', 'cancel', 'full_log_read', 'facts', 'policy_rejected',
  'forbidden', 'user_created', 'user_updated', 'user_deleted', 'token_created', 'token_revoked',
];

export class AdminPage extends HTMLElement {
  connectedCallback() {
    if (!canAdmin()) {
      replace(this, h('h1', { text: 'Admin' }),
        h('p', { class: 'notice role-note', text: `The admin page needs the admin role; yours is ${session()?.role ?? 'unknown'}.` }));
      return;
    }
    this.filters = readFilters(new URLSearchParams(location.search));
    this.auditSummary = h('p', { class: 'muted', attrs: { 'aria-live': 'polite' } });
    this.auditBox = h('div', { class: 'table-scroll' }, h('p', { class: 'muted', text: 'Loading the audit log…' }));
    this.moreButton = h('button', { type: 'button', text: 'Load more', hidden: true, on: { click: () => this.loadAudit({ more: true }) } });
    this.usersBox = h('div', { class: 'table-scroll' }, h('p', { class: 'muted', text: 'Loading users…' }));
    this.tokensBox = h('div', { class: 'table-scroll' }, h('p', { class: 'muted', text: 'Loading tokens…' }));
    this.tokenStatus = h('p', { class: 'muted', tabIndex: -1, attrs: { 'aria-live': 'polite' } });
    this.newTokenBox = h('div', { class: 'new-token-box' });
    this.policyBox = h('div', { class: 'card policy' }, h('p', { class: 'muted', text: 'Loading the policy…' }));
    replace(this,
      h('div', { class: 'page-head' }, h('h1', { text: 'Admin' })),
      h('section', { attrs: { 'aria-labelledby': 'audit-heading' } },
        h('h2', { id: 'audit-heading', text: 'Audit log' }),
        this.auditFilters(), this.auditBox,
        h('div', { class: 'pager' }, this.auditSummary, h('span', { class: 'spacer' }), this.moreButton)),
      h('section', { attrs: { 'aria-labelledby': 'users-heading' } },
        h('h2', { id: 'users-heading', text: 'Users' }), newUserForm(() => this.accountsChanged()), this.usersBox),
      h('section', { attrs: { 'aria-labelledby': 'tokens-heading' } },
        h('h2', { id: 'tokens-heading', text: 'API tokens' }), this.newTokenBox, this.tokenStatus, this.tokensBox),
      h('section', { attrs: { 'aria-labelledby': 'policy-heading' } },
        h('h2', { id: 'policy-heading', text: 'Policy in force' }), this.policyBox));
    policyPanel().then((content) => replace(this.policyBox, content));
    this.loadAudit();
    this.loadUsers();
    this.loadTokens();
  }

  disconnectedCallback() {
    this.abort?.abort();
  }

  // ---------------------------------------------------------------------------- audit log

  auditFilters() {
    const user = h('input', { type: 'search', name: 'user', id: uid('audit-user'), value: this.filters.user, autocomplete: 'off' });
    const outcome = h('select', { name: 'outcome', id: uid('audit-outcome') }, h('option', { value: '', text: 'any' }),
      OUTCOMES.map((o) => h('option', { value: o, text: o, selected: this.filters.outcome === o })));
    const actions = h('fieldset', { class: 'filter action-filter' }, h('legend', { text: 'Actions (none checked: all)' }),
      ACTIONS.map((action) => h('label', { class: 'check-option' },
        h('input', { type: 'checkbox', name: 'action', value: action, checked: this.filters.action.includes(action) }),
        h('span', { text: action }))));
    return filterForm('Filter the audit log', [
      h('div', { class: 'filter' }, h('label', { htmlFor: user.id, text: 'User' }), user),
      h('div', { class: 'filter' }, h('label', { htmlFor: outcome.id, text: 'Outcome' }), outcome),
      dateFilter('since', 'From (date)', this.filters.since),
      dateFilter('until', 'To (date, inclusive)', this.filters.until),
      actions,
    ], (data) => this.applyFilters(data));
  }

  applyFilters(data) {
    this.filters = {
      user: (data.get('user') || '').trim(),
      outcome: data.get('outcome') || '',
      action: data.getAll('action'),
      since: data.get('since') || '',
      until: data.get('until') || '',
    };
    history.pushState(null, '', `/admin${query(this.filters)}`);
    this.loadAudit();
  }

  /** Load the newest entries matching the filters, or (`more`) the next page after those shown. */
  async loadAudit({ more = false } = {}) {
    this.abort?.abort();
    this.abort = new AbortController();
    const offset = more ? this.auditRows.length : 0;
    this.moreButton.disabled = true;
    try {
      const { since, until, ...filters } = this.filters;
      const times = { since: dayStart(since), until: dayStart(until, 1) }; // local days, the whole "to" day
      const page = await api(`/api/audit${query({ ...filters, ...times, limit: AUDIT_PAGE, offset })}`, { signal: this.abort.signal });
      this.auditRows = more ? [...this.auditRows, ...page.items] : page.items;
      this.showAudit(page.items, more, page.total);
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(this.auditBox, failure(`Could not load the audit log: ${error.message}`));
    } finally {
      this.moreButton.disabled = false;
    }
  }

  showAudit(items, more, total) {
    const shown = this.auditRows.length;
    if (more && this.auditBody) this.auditBody.append(...items.map(auditRow));
    else if (shown) replace(this.auditBox, this.auditTable());
    else replace(this.auditBox, h('p', { class: 'muted', text: 'No audit entries match.' }));
    this.auditSummary.textContent = shown ? `Showing ${shown} of ${total}, newest first` : '';
    this.moreButton.hidden = shown >= total;
  }

  auditTable() {
    this.auditBody = h('tbody', {}, this.auditRows.map(auditRow));
    return h('table', { class: 'data-table audit' },
      h('caption', { class: 'visually-hidden', text: 'Audit log, newest first' }),
      h('thead', {}, h('tr', {}, ['Time', 'User', 'Action', 'Outcome', 'Client', 'Execution', 'Detail'].map((text) => h('th', { scope: 'col', text })))),
      this.auditBody);
  }

  // ---------------------------------------------------------------------------- users and tokens

  async loadUsers() {
    try {
      const { items } = await api('/api/users');
      replace(this.usersBox, usersTable(items, () => this.accountsChanged()));
      if (!this.newTokenBox.childElementCount || this.tokenUsers !== items.length) {
        this.tokenUsers = items.length; // rebuilt when users come or go, kept otherwise (it may show a new secret)
        replace(this.newTokenBox, newTokenForm(items, () => { this.loadTokens(); this.loadAudit(); }));
      }
    } catch (error) {
      replace(this.usersBox, failure(`Could not list users: ${error.message}`));
    }
  }

  /** After a user or token change: the lists and the audit log show it. */
  accountsChanged() {
    this.loadUsers();
    this.loadTokens();
    this.loadAudit();
  }

  async loadTokens() {
    try {
      const { items } = await api('/api/tokens');
      replace(this.tokensBox, items.length ? this.tokensTable(items) : h('p', { class: 'muted', text: 'No API tokens.' }));
    } catch (error) {
      replace(this.tokensBox, failure(`Could not list API tokens: ${error.message}`));
    }
  }

  tokensTable(items) {
    return h('table', { class: 'data-table tokens' },
      h('thead', {}, h('tr', {}, ['Name', 'User', 'Created', 'Last used', 'State', ''].map((text) => h('th', { scope: 'col', text })))),
      h('tbody', {}, items.map((token) => this.tokenRow(token))));
  }

  tokenRow(token) {
    const revoke = token.revokedAt ? null : h('button', {
      type: 'button', class: 'danger', text: 'Revoke',
      attrs: { 'aria-label': `Revoke token ${tokenLabel(token)} of ${token.user}` },
      on: { click: () => this.revoke(token, revoke) },
    });
    return h('tr', { dataset: { id: token.id, state: token.revokedAt ? 'revoked' : 'active' } },
      h('th', { scope: 'row', text: token.name || '–', title: token.id }),
      h('td', { text: token.user }),
      h('td', { class: 'nowrap' }, timeElement(token.createdAt)),
      h('td', { class: 'nowrap' }, token.lastUsedAt ? timeElement(token.lastUsedAt) : 'never'),
      h('td', {}, token.revokedAt ? ['revoked ', timeElement(token.revokedAt)] : 'active'),
      h('td', {}, revoke));
  }

  async revoke(token, button) {
    button.disabled = true;
    try {
      const revoked = await api(`/api/tokens/${encodeURIComponent(token.id)}`, { method: 'DELETE' });
      button.closest('tr').replaceWith(this.tokenRow({ ...token, ...revoked }));
      this.tokenStatus.textContent = `Token ${tokenLabel(token)} of ${token.user} revoked.`;
      this.tokenStatus.focus(); // the focused button is gone with its row
      this.loadAudit(); // the revocation is in the log now
    } catch (error) {
      button.disabled = false;
      this.tokenStatus.textContent = `Could not revoke token ${tokenLabel(token)}: ${error.message}`;
    }
  }
}

function auditRow(entry) {
  return h('tr', { dataset: { id: entry.id, action: entry.action, outcome: entry.outcome } },
    h('td', { class: 'nowrap' }, timeElement(entry.at)),
    h('td', { text: entry.user ?? '–' }),
    h('th', { scope: 'row', text: entry.action }),
    h('td', {}, h('span', { class: 'outcome', dataset: { outcome: entry.outcome }, text: entry.outcome })),
    h('td', { class: 'mono', text: entry.client ?? '–' }),
    h('td', {}, entry.executionId
      ? h('a', { class: 'mono', href: `/executions/${encodeURIComponent(entry.executionId)}`, text: entry.executionId.slice(0, 8) })
      : '–'),
    h('td', { class: 'detail' }, auditDetail(entry.detail)));
}

const tokenLabel = (token) => token.name || token.id;

/** A date input for the audit filters (a local calendar day). */
function dateFilter(name, label, value) {
  const control = h('input', { type: 'date', name, id: uid(`audit-${name}`), value });
  return h('div', { class: 'filter' }, h('label', { htmlFor: control.id, text: label }), control);
}

/** The ISO instant a local day (`YYYY-MM-DD`) starts, `plusDays` later; '' for none. */
function dayStart(day, plusDays = 0) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return '';
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year, month - 1, date + plusDays).toISOString();
}

function failure(message) {
  return h('p', { class: 'form-error', attrs: { role: 'alert' }, text: message });
}

function readFilters(params) {
  return {
    user: params.get('user') ?? '',
    outcome: OUTCOMES.includes(params.get('outcome')) ? params.get('outcome') : '',
    action: (params.get('action') ?? '').split(',').filter((a) => ACTIONS.includes(a)),
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
}
