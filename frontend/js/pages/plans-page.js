// Plans: the project's plans (GET /api/plans) and, for the chosen one (/plans/<name>), a form
// generated from its metadata whose TargetSpec parameters pick inventory targets and groups.

import { api, problemText } from '../api.js';
import { h, replace } from '../dom.js';
import { PlanParams, planDescription } from '../components/plan-form.js';
import { roleNote, runForm, timeoutField } from '../components/run-forms.js';
import { canRun } from '../session.js';

export class PlansPage extends HTMLElement {
  connectedCallback() {
    this.chosen = this.getAttribute('plan') ?? '';
    this.list = h('nav', { class: 'plan-list card', attrs: { 'aria-label': 'Plans' } }, h('p', { class: 'muted', text: 'Loading plans…' }));
    this.detail = h('div', { class: 'plan-detail card' },
      h('p', { class: 'muted', text: this.chosen ? 'Loading the plan…' : 'Choose a plan to run it.' }));
    replace(this,
      h('div', { class: 'page-head' },
        h('h1', { text: 'Plans' }),
        h('p', { class: 'muted', text: 'Bolt plans of the project: choose one, fill in its parameters and run it.' })),
      h('section', { class: 'plans-grid' }, this.list, this.detail));
    this.loadList();
    if (this.chosen) this.loadPlan();
  }

  async loadList() {
    try {
      const { plans } = await api('/api/plans');
      replace(this.list, plans.length
        ? h('ul', {}, plans.map((plan) => h('li', {},
          h('a', {
            href: `/plans/${encodeURIComponent(plan.name)}`, text: plan.name,
            attrs: { 'aria-current': plan.name === this.chosen ? 'page' : false },
          }),
          plan.description ? h('span', { class: 'muted', text: plan.description }) : null)))
        : h('p', { class: 'muted', text: 'The Bolt project has no plans (private ones are not listed).' }));
    } catch (error) {
      replace(this.list, h('p', { class: 'form-error', attrs: { role: 'alert' }, text: `Could not list the plans: ${problemText(error)}` }));
    }
  }

  async loadPlan() {
    let plan;
    try {
      plan = await api(`/api/plans/${encodeURIComponent(this.chosen)}`);
    } catch (error) {
      const text = error.status === 404 ? `There is no plan ${this.chosen}.` : `Could not read the plan: ${problemText(error)}`;
      replace(this.detail, h('p', { class: 'form-error', attrs: { role: 'alert' }, text }));
      return;
    }
    if (!this.isConnected) return;
    const head = h('div', { class: 'plan-head', dataset: { field: 'plan' } }, // the server's `plan` errors show here
      h('h2', {}, h('code', { text: plan.name })),
      planDescription(plan) ? h('p', { class: 'muted', text: planDescription(plan) }) : null,
      h('p', { class: 'field-error', hidden: true }));
    replace(this.detail, head, canRun() ? this.form(plan, head) : roleNote());
  }

  form(plan, head) {
    const params = new PlanParams(plan);
    const timeout = timeoutField();
    return runForm({
      path: '/api/plans/run',
      submitLabel: 'Run plan',
      fields: [params.element, timeout.wrapper],
      body: () => ({ plan: plan.name, params: params.read(), ...timeout.read() }),
      check: () => params.check(),
      errorRoots: [head],
      targetsOf: () => params.chosenTargets(),
    });
  }
}
