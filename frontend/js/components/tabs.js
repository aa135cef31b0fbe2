// Accessible tabs (WAI-ARIA tabs pattern): arrow keys, Home and End move between tabs.

import { h, uid } from '../dom.js';

export class Tabs {
  /**
   * `items`: [{key, label, panel}] where `panel` is a node or a function building it on first
   * show. `onSelect(key)` is called after a tab is shown.
   */
  constructor(label, items = [], { onSelect = () => {} } = {}) {
    this.onSelect = onSelect;
    this.items = new Map();
    this.list = h('div', { class: 'tablist', attrs: { role: 'tablist', 'aria-label': label }, on: { keydown: (e) => this.onKey(e) } });
    this.panels = h('div', { class: 'tabpanels' });
    this.element = h('div', { class: 'tabs' }, this.list, this.panels);
    this.selected = null;
    for (const item of items) this.add(item);
    if (items.length) this.select(items[0].key);
  }

  /** Add a tab (before the tab `before`, if given); answers its button so callers can decorate it. */
  add({ key, label, panel, before }) {
    const id = uid('tab');
    const button = h('button', {
      type: 'button', id, class: 'tab', tabIndex: -1, dataset: { key },
      attrs: { role: 'tab', 'aria-selected': 'false', 'aria-controls': `${id}-panel` },
      on: { click: () => this.select(key, { focus: true }) },
    }, h('span', { class: 'tab-label', text: label }));
    const container = h('div', { id: `${id}-panel`, class: 'tabpanel', hidden: true, attrs: { role: 'tabpanel', 'aria-labelledby': id } });
    const next = before === undefined ? null : this.items.get(before);
    this.list.insertBefore(button, next?.button ?? null);
    this.panels.insertBefore(container, next?.container ?? null);
    this.items.set(key, { button, container, panel, built: false });
    if (typeof panel !== 'function') this.build(this.items.get(key)); // a ready node goes in at once
    if (this.selected === null) this.select(key);
    return button;
  }

  has(key) {
    return this.items.has(key);
  }

  build(item) {
    if (item.built) return;
    item.container.append(typeof item.panel === 'function' ? item.panel() : item.panel);
    item.built = true;
  }

  /** Keys in the order the tabs are shown. */
  keys() {
    return [...this.list.children].map((button) => button.dataset.key);
  }

  select(key, { focus = false } = {}) {
    const item = this.items.get(key);
    if (!item) return;
    this.build(item);
    for (const [otherKey, other] of this.items) {
      const on = otherKey === key;
      other.button.setAttribute('aria-selected', String(on));
      other.button.tabIndex = on ? 0 : -1;
      other.container.hidden = !on;
    }
    this.selected = key;
    if (focus) item.button.focus();
    this.onSelect(key);
  }

  onKey(event) {
    const keys = this.keys();
    const at = keys.indexOf(this.selected);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: keys.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.select(keys[(moves[event.key] + keys.length) % keys.length], { focus: true });
  }
}
