// Execution detail: a breadcrumb and the RealtimeOutputViewer.

import { h, replace } from '../dom.js';

export class ExecutionPage extends HTMLElement {
  connectedCallback() {
    const viewer = document.createElement('bd-output-viewer');
    viewer.setAttribute('execution-id', this.getAttribute('execution-id') ?? '');
    replace(this,
      h('p', { class: 'breadcrumb' }, h('a', { href: '/executions', text: 'Executions' }), ' / ',
        h('span', { class: 'mono', text: (this.getAttribute('execution-id') ?? '').slice(0, 8) })),
      viewer);
  }
}
