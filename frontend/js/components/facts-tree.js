// A searchable tree of facts (any JSON value): nested <details> for hashes and arrays.

import { h, replace, uid } from '../dom.js';

const MAX_NODES = 5000; // facts of a big host stay readable; the search narrows them down

export class FactsTree extends HTMLElement {
  connectedCallback() {
    if (this.search) return;
    this.search = h('input', {
      type: 'search', id: uid('facts-search'), placeholder: 'key or value, e.g. os.release',
      on: { input: () => this.scheduleRender() },
    });
    this.count = h('span', { class: 'muted', attrs: { 'aria-live': 'polite' } });
    this.tree = h('div', { class: 'tree' });
    replace(this,
      h('div', { class: 'toolbar' }, h('label', { htmlFor: this.search.id, text: 'Search facts' }), this.search, this.count),
      this.tree);
    if (this._data !== undefined) this.render();
  }

  set data(value) {
    this._data = value;
    if (this.search) this.render();
  }

  scheduleRender() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.render(), 120);
  }

  disconnectedCallback() {
    clearTimeout(this.timer);
  }

  render() {
    const needle = this.search.value.trim().toLowerCase();
    const budget = { left: MAX_NODES, matches: 0 };
    const nodes = entries(this._data).map(([key, value]) => node(key, key, value, needle, budget)).filter(Boolean);
    replace(this.tree, nodes.length ? h('ul', { class: 'tree-root' }, nodes) : h('p', { class: 'muted', text: needle ? 'No fact matches.' : 'No facts.' }));
    this.count.textContent = needle ? `${budget.matches} match${budget.matches === 1 ? '' : 'es'}` : '';
    if (budget.left <= 0) this.tree.append(h('p', { class: 'muted', text: 'Too many facts to show at once; search to narrow them down.' }));
  }
}

function entries(value) {
  if (Array.isArray(value)) return value.map((item, i) => [String(i), item]);
  if (value && typeof value === 'object') return Object.entries(value);
  return [];
}

function isBranch(value) {
  return value !== null && typeof value === 'object';
}

/** One tree node, or null when neither it nor anything below it matches the search. */
function node(key, path, value, needle, budget) {
  if (budget.left <= 0) return null;
  const selfMatch = !needle || path.toLowerCase().includes(needle)
    || (!isBranch(value) && String(value).toLowerCase().includes(needle));
  if (!isBranch(value)) {
    if (!selfMatch) return null;
    budget.left -= 1;
    if (needle) budget.matches += 1;
    return h('li', { class: 'leaf' }, h('span', { class: 'key', text: key }), h('span', { class: 'sep', text: ': ' }),
      h('span', { class: `value value-${value === null ? 'null' : typeof value}`, text: JSON.stringify(value) }));
  }
  // A matching branch shows everything below it; otherwise only the matching descendants.
  const childNeedle = selfMatch ? '' : needle;
  const children = entries(value).map(([k, v]) => node(k, `${path}.${k}`, v, childNeedle, budget)).filter(Boolean);
  if (!children.length && !selfMatch) return null;
  budget.left -= 1;
  if (needle && selfMatch) budget.matches += 1;
  const size = Array.isArray(value) ? `[${value.length}]` : `{${Object.keys(value).length}}`;
  return h('li', { class: 'branch' },
    h('details', { open: Boolean(needle) || !path.includes('.') && children.length <= 12 },
      h('summary', {}, h('span', { class: 'key', text: key }), ' ', h('span', { class: 'muted', text: size })),
      h('ul', {}, children)));
}
