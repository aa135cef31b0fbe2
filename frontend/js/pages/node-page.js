// Node detail: a target's inventory data, its facts (gathered on demand) and the run forms.

import { api, problemText, query } from '../api.js';
import { executionTitle, statusBadge } from '../components/status.js';
import { h, replace, timeElement } from '../dom.js';

const RECENT = 5;

export class NodePage extends HTMLElement {
  connectedCallback() {
    this.name = this.getAttribute('target') ?? '';
    this.overview = h('div', { class: 'card' }, h('p', { class: 'muted', text: 'Loading…' }));
    this.recent = h('div', { class: 'card recent-executions' }, h('p', { class: 'muted', text: 'Loading…' }));
    this.factsButton = h('button', { type: 'button', text: 'Gather facts', on: { click: () => this.gatherFacts() } });
    this.factsStatus = h('span', { class: 'muted', attrs: { 'aria-live': 'polite' } });
    this.factsTree = document.createElement('bd-facts-tree');
    this.factsTree.hidden = true;
    const forms = document.createElement('bd-run-forms');
    forms.targets = [this.name];
    replace(this,
      h('div', { class: 'page-head' },
        h('p', { class: 'breadcrumb' }, h('a', { href: '/inventory', text: 'Inventory' }), ' / '),
        h('h1', { text: this.name })),
      h('section', { class: 'node-grid' },
        h('div', { class: 'node-main' },
          h('h2', { text: 'Overview' }), this.overview,
          h('h2', { text: 'Recent executions' }), this.recent,
          h('h2', { text: 'Run' }), forms),
        h('div', { class: 'node-side' },
          h('h2', { text: 'Facts' }),
          h('div', { class: 'card' },
            h('div', { class: 'toolbar' }, this.factsButton, this.factsStatus),
            this.factsTree))));
    this.load();
  }

  async load() {
    try {
      const target = await api(`/api/inventory/targets/${encodeURIComponent(this.name)}`);
      replace(this.overview, overviewList(target));
    } catch (error) {
      if (error.status === 404) {
        replace(this, h('p', { class: 'breadcrumb' }, h('a', { href: '/inventory', text: 'Inventory' }), ' / '),
          h('h1', { text: 'Target not found' }),
          h('p', { class: 'notice', attrs: { role: 'alert' } }, 'The inventory has no target ', h('code', { text: this.name }), '.'));
        return;
      }
      replace(this.overview, h('p', { class: 'form-error', attrs: { role: 'alert' }, text: problemText(error) }));
    }
    this.loadRecent();
  }

  /** The last few executions that ran on this target (also through a group). */
  async loadRecent() {
    try {
      const { items, total } = await api(`/api/executions${query({ target: this.name, limit: RECENT })}`);
      replace(this.recent, items.length
        ? [h('ul', { class: 'recent-list' }, items.map((item) => h('li', {},
          statusBadge(item.status), ' ', h('a', { href: `/executions/${encodeURIComponent(item.id)}`, text: executionTitle(item) }),
          ' · ', timeElement(item.startedAt ?? item.createdAt), item.createdBy ? ` · ${item.createdBy}` : ''))),
        total > items.length ? h('a', { href: `/executions${query({ target: this.name })}`, text: `All ${total} executions on ${this.name}` }) : null]
        : h('p', { class: 'muted', text: 'Nothing has run here yet.' }));
    } catch (error) {
      replace(this.recent, h('p', { class: 'muted', text: `Could not load recent executions: ${problemText(error)}` }));
    }
  }

  async gatherFacts() {
    this.factsButton.disabled = true;
    this.factsStatus.textContent = 'Gathering facts with Bolt…';
    try {
      const body = await api(`/api/targets/${encodeURIComponent(this.name)}/facts`);
      this.factsTree.data = body.facts ?? {};
      this.factsTree.hidden = false;
      this.factsStatus.textContent = `${Object.keys(body.facts ?? {}).length} top-level facts`;
      this.factsButton.textContent = 'Gather again';
    } catch (error) {
      this.factsStatus.textContent = `Could not gather facts: ${problemText(error)}`;
    } finally {
      this.factsButton.disabled = false;
    }
  }
}

function overviewList(target) {
  const groups = (target.groups ?? []).join(', ') || '–';
  const row = (term, ...value) => [h('dt', { text: term }), h('dd', {}, ...value)];
  return h('dl', { class: 'facts-list' },
    row('URI', h('code', { text: target.uri ?? '–' })),
    row('Transport', target.transport ?? '–'),
    row('Alias', (target.alias ?? []).join(', ') || '–'),
    row('Groups', groups),
    row('Features', (target.features ?? []).join(', ') || '–'),
    row('Vars', jsonBlock(target.vars)),
    row('Inventory facts', jsonBlock(target.facts)));
}

function jsonBlock(value) {
  if (!value || (typeof value === 'object' && !Object.keys(value).length)) return '–';
  return h('pre', { class: 'json', text: JSON.stringify(value, null, 2) });
}
