// Node detail: a target's inventory data, its facts (gathered on demand) and the run forms.

import { api } from '../api.js';
import { h, replace } from '../dom.js';

export class NodePage extends HTMLElement {
  connectedCallback() {
    this.name = this.getAttribute('target') ?? '';
    this.overview = h('div', { class: 'card' }, h('p', { class: 'muted', text: 'Loading…' }));
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
      replace(this.overview, h('p', { class: 'form-error', attrs: { role: 'alert' }, text: error.message }));
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
      this.factsStatus.textContent = `Could not gather facts: ${error.message}`;
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
