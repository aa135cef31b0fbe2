// PuppetResourceView: the resources a Puppet run changed, failed, skipped or would change
// (noop), per target, live from `resources` events and, in history, from each result's
// `puppet` summary. Filters show one status at a time; counts are Puppet's own way of counting.

import { h, replace } from '../dom.js';

const STATUSES = ['changed', 'failed', 'noop', 'skipped'];

export class PuppetResourceView {
  constructor() {
    this.targets = new Map(); // target -> {entries: Map(resource -> entry), counts, applySeconds}
    this.filter = 'all';
    this.filters = h('fieldset', { class: 'segmented resource-filters' },
      h('legend', { class: 'visually-hidden', text: 'Show resources' }),
      ['all', ...STATUSES].map((value) => h('label', { class: 'segmented-option' },
        h('input', { type: 'radio', name: 'resource-filter', value, checked: value === 'all', on: { change: () => this.show(value) } }),
        h('span', { text: value === 'all' ? 'All' : value }))));
    this.body = h('div', { class: 'resource-targets' });
    this.element = h('section', { class: 'resource-view', hidden: true, attrs: { 'aria-labelledby': 'resources-heading' } },
      h('h2', { id: 'resources-heading', text: 'Puppet resources' }), this.filters, this.body);
  }

  /** `resources` event data: {resources: [{resource, status, message}], counts, applySeconds}. */
  add(target, data) {
    const view = this.view(target);
    for (const entry of data.resources ?? []) view.entries.set(entry.resource, entry);
    view.counts = data.counts ?? view.counts;
    view.applySeconds = data.applySeconds ?? view.applySeconds;
    this.schedule();
  }

  /** A result's final `puppet` summary: the whole list, as stored with the result. */
  summary(target, puppet) {
    const view = this.view(target);
    view.entries = new Map((puppet.resources ?? []).map((entry) => [entry.resource, entry]));
    view.counts = Object.fromEntries(STATUSES.map((status) => [status, puppet[status] ?? 0]));
    view.applySeconds = puppet.applySeconds;
    this.schedule();
  }

  /** Render once per frame however many events came (a run may report thousands of resources). */
  schedule() {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  show(filter) {
    this.filter = filter;
    this.render();
  }

  view(target) {
    if (!this.targets.has(target)) this.targets.set(target, { entries: new Map(), counts: {}, applySeconds: null });
    this.element.hidden = false;
    return this.targets.get(target);
  }

  render() {
    replace(this.body, [...this.targets].map(([target, view]) => this.targetBlock(target, view)));
  }

  targetBlock(target, view) {
    const counts = STATUSES.map((status) => h('span', { class: 'resource-count', dataset: { status }, text: `${status} ${view.counts[status] ?? 0}` }));
    const time = typeof view.applySeconds === 'number' ? h('span', { class: 'muted', text: `applied in ${view.applySeconds}s` }) : null;
    const shown = [...view.entries.values()].filter((entry) => this.filter === 'all' || entry.status === this.filter);
    const rows = shown.map((entry) => h('li', { class: 'resource-entry', dataset: { status: entry.status } },
      h('span', { class: 'resource-status', text: entry.status }),
      h('code', { class: 'resource-name', text: entry.resource }),
      h('span', { class: 'resource-message', text: entry.message ?? '' })));
    return h('div', { class: 'resource-target', dataset: { target } },
      h('h3', { text: target }), h('p', { class: 'resource-counts' }, counts, time),
      rows.length ? h('ul', { class: 'resource-list' }, rows) : h('p', { class: 'muted', text: 'None.' }));
  }
}
