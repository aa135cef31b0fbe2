// Run forms for several targets and groups chosen on the inventory page (/run?targets=a,b).

import { h, replace } from '../dom.js';

export class RunPage extends HTMLElement {
  connectedCallback() {
    const names = (this.getAttribute('targets') ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    const forms = document.createElement('bd-run-forms');
    forms.targets = names;
    replace(this,
      h('div', { class: 'page-head' },
        h('p', { class: 'breadcrumb' }, h('a', { href: '/inventory', text: 'Inventory' }), ' / '),
        h('h1', { text: names.length === 1 ? `Run on ${names[0]}` : `Run on ${names.length} targets and groups` })),
      names.length ? forms : h('p', {}, 'No targets chosen. ', h('a', { href: '/inventory', text: 'Pick some in the inventory.' })));
  }
}
