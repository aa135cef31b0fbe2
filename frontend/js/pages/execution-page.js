// Execution detail: a breadcrumb and the RealtimeOutputViewer; for a plan, also its step tree.

import { api, executionPath } from '../api.js';
import { h, replace } from '../dom.js';

export class ExecutionPage extends HTMLElement {
  connectedCallback() {
    const id = this.getAttribute('execution-id') ?? '';
    const viewer = document.createElement('bd-output-viewer');
    viewer.setAttribute('execution-id', id);
    replace(this,
      h('p', { class: 'breadcrumb' }, h('a', { href: '/executions', text: 'Executions' }), ' / ',
        h('span', { class: 'mono', text: id.slice(0, 8) })),
      viewer);
    this.addPlanSteps(id, viewer);
  }

  /** A plan's step tree goes under the viewer's summary; it follows the execution's events itself. */
  async addPlanSteps(id, viewer) {
    let execution;
    try {
      execution = await api(executionPath(id));
    } catch {
      return; // the viewer says what went wrong
    }
    if (!this.isConnected || execution.kind !== 'plan') return;
    const steps = document.createElement('bd-plan-steps');
    steps.setAttribute('execution-id', id);
    viewer.header.element.after(steps);
  }
}
