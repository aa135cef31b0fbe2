// Inventory: targets and groups from Bolt's inventory, a filter, multi-select, "run on selected".

import { api, problemText } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { navigate } from '../router.js';
import { canRun, session } from '../session.js';

export class InventoryPage extends HTMLElement {
  connectedCallback() {
    this.mayRun = canRun(); // selecting is for running: viewers get plain tables
    this.selected = new Set();
    this.inventory = { targets: [], groups: [] };
    this.filterBox = h('input', {
      type: 'search', id: uid('filter'), placeholder: 'name, alias, URI, transport or group',
      on: { input: () => this.renderTables() },
    });
    this.runButton = h('button', {
      type: 'button', class: 'primary', disabled: true, on: { click: () => this.runOnSelected() },
    });
    this.selection = h('span', { class: 'selection-count', attrs: { 'aria-live': 'polite' } });
    this.tables = h('div', { class: 'inventory-tables' }, h('p', { class: 'muted', text: 'Loading the inventory…' }));
    const intro = this.mayRun
      ? 'Targets and groups from the Bolt inventory. Select some to run a command, task, Puppet run or package action on them.'
      : `Targets and groups from the Bolt inventory. Your role (${session()?.role ?? 'unknown'}) can look but not run.`;
    replace(this,
      h('div', { class: 'page-head' }, h('h1', { text: 'Inventory' }), h('p', { class: 'muted', text: intro })),
      h('div', { class: 'toolbar sticky' },
        h('label', { htmlFor: this.filterBox.id, text: 'Filter' }), this.filterBox,
        h('span', { class: 'spacer' }), this.mayRun ? [this.selection, this.runButton] : null),
      this.tables);
    this.updateSelection();
    this.load();
  }

  async load() {
    try {
      this.inventory = await api('/api/inventory');
      this.renderTables();
    } catch (error) {
      replace(this.tables, h('p', { class: 'form-error', attrs: { role: 'alert' }, text: `Could not read the inventory: ${problemText(error)}` }));
    }
  }

  matchesFilter(fields) {
    const needle = this.filterBox.value.trim().toLowerCase();
    return !needle || fields.flat().some((field) => String(field ?? '').toLowerCase().includes(needle));
  }

  renderTables() {
    const targets = this.inventory.targets.filter((t) => this.matchesFilter([t.name, t.uri, t.transport, t.alias ?? [], t.groups ?? []]));
    const groups = this.inventory.groups.filter((g) => this.matchesFilter([g.name, g.targets ?? []]));
    replace(this.tables,
      h('section', { attrs: { 'aria-labelledby': 'targets-heading' } },
        h('h2', { id: 'targets-heading', text: `Targets (${targets.length} of ${this.inventory.targets.length})` }),
        this.table('targets', targets, ['Name', 'Alias', 'URI', 'Transport', 'Groups'], (t) => [
          h('a', { href: `/targets/${encodeURIComponent(t.name)}`, text: t.name }),
          (t.alias ?? []).join(', ') || '–', t.uri ?? '–', t.transport ?? '–', (t.groups ?? []).join(', '),
        ])),
      h('section', { attrs: { 'aria-labelledby': 'groups-heading' } },
        h('h2', { id: 'groups-heading', text: `Groups (${groups.length} of ${this.inventory.groups.length})` }),
        this.table('groups', groups, ['Name', 'Targets'], (g) => [g.name, (g.targets ?? []).join(', ') || '–'])));
  }

  table(kind, items, headings, cells) {
    if (!items.length) return h('p', { class: 'muted', text: `No ${kind} match the filter.` });
    const selectAll = this.mayRun ? h('th', { class: 'check' }, h('input', {
      type: 'checkbox',
      checked: items.every((item) => this.selected.has(item.name)),
      attrs: { 'aria-label': `Select all ${kind} shown` },
      on: { change: (event) => this.selectAll(items, event.target.checked) },
    })) : null;
    return h('div', { class: 'table-scroll' }, h('table', { class: ['data-table', this.mayRun && 'selectable'], dataset: { kind } },
      h('thead', {}, h('tr', {}, selectAll, headings.map((text) => h('th', { scope: 'col', text })))),
      h('tbody', {}, items.map((item) => this.row(item, cells(item))))));
  }

  row(item, cells) {
    const row = h('tr', { dataset: { name: item.name } },
      cells.map((cell, i) => (i === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell))));
    if (!this.mayRun) return row;
    const box = h('input', {
      type: 'checkbox', checked: this.selected.has(item.name), value: item.name,
      attrs: { 'aria-label': `Select ${item.name}` },
      on: { change: (event) => this.toggle(item.name, event.target.checked) },
    });
    row.classList.toggle('is-selected', box.checked);
    row.prepend(h('td', { class: 'check' }, box));
    return row;
  }

  toggle(name, on) {
    if (on) this.selected.add(name);
    else this.selected.delete(name);
    this.syncChecks();
  }

  selectAll(items, on) {
    for (const item of items) {
      if (on) this.selected.add(item.name);
      else this.selected.delete(item.name);
    }
    this.syncChecks();
  }

  /** Reflect the selection in the checkboxes without rebuilding rows (keyboard focus stays). */
  syncChecks() {
    for (const table of this.tables.querySelectorAll('table.selectable')) {
      const boxes = [...table.querySelectorAll('tbody input[type=checkbox]')];
      for (const box of boxes) {
        box.checked = this.selected.has(box.value);
        box.closest('tr').classList.toggle('is-selected', box.checked);
      }
      table.querySelector('thead input[type=checkbox]').checked = boxes.every((box) => box.checked);
    }
    this.updateSelection();
  }

  updateSelection() {
    const n = this.selected.size;
    this.selection.textContent = n ? `${n} selected: ${[...this.selected].join(', ')}` : 'Nothing selected';
    this.runButton.disabled = n === 0;
    this.runButton.textContent = n ? `Run on ${n} selected…` : 'Run on selected…';
  }

  runOnSelected() {
    if (this.selected.size) navigate(`/run?targets=${encodeURIComponent([...this.selected].join(','))}`);
  }
}
