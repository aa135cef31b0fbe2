// Execution detail: a breadcrumb and the RealtimeOutputViewer; for a plan, also its step tree;
// for anything else, the fleet view (which shows itself when the targets are many).

import { api, executionPath } from '../api.js';
import { h, replace } from '../dom.js';
import { SHOW_TARGET_EVENT } from '../components/fleet-view.js';

export class ExecutionPage extends HTMLElement {
  connectedCallback() {
    const id = this.getAttribute('execution-id') ?? '';
    const viewer = document.createElement('bd-output-viewer');
    viewer.setAttribute('execution-id', id);
    replace(this,
      h('p', { class: 'breadcrumb' }, h('a', { href: '/executions', text: 'Executions' }), ' / ',
        h('span', { class: 'mono', text: id.slice(0, 8) })),
      viewer);
    this.addEventListener(SHOW_TARGET_EVENT, (event) => showTarget(viewer, event.detail.target));
    this.addOverview(id, viewer);
  }

  /** A plan's step tree, or the fleet view, goes under the viewer's summary; each follows the execution's events itself. */
  async addOverview(id, viewer) {
    let execution;
    try {
      execution = await api(executionPath(id));
    } catch {
      return; // the viewer says what went wrong
    }
    if (!this.isConnected) return;
    const overview = document.createElement(execution.kind === 'plan' ? 'bd-plan-steps' : 'bd-fleet-view');
    overview.setAttribute('execution-id', id);
    overview.setAttribute('kind', execution.kind ?? '');
    viewer.header.element.after(overview);
  }
}

/** Bring a target's output pane into view (its result's row, where it has no pane). */
function showTarget(viewer, target) {
  const { tabs } = viewer;
  if (tabs?.has(target)) {
    tabs.select(target, { focus: true });
    tabs.element.scrollIntoView({ block: 'start' });
    return;
  }
  viewer.querySelector(`tr[data-target="${CSS.escape(target)}"]`)?.scrollIntoView({ block: 'center' });
}
