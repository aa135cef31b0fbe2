// PlanSteps (<bd-plan-steps execution-id="…">): a plan's steps as a tree that grows while the
// plan runs, from the `step`, `stepResult`, `message` and `planResult` events (replayed from the
// first one when the page opens later): sub-plans nested, each step's status, failures and
// duration, its result and output per target, the plan's messages in order, and the return value
// or error.
// Everything shown is the plan's or Bolt's text: it goes in through text nodes only.

import { stripAnsi } from '../ansi.js';
import { h, replace, uid } from '../dom.js';
import { errorText } from '../pieces.js';
import { followExecution } from '../stream.js';
import { resultsTable, statusBadge } from './status.js';

const ENDED_EARLY = new Set(['cancelled', 'timed_out', 'interrupted']);
const TARGETS_NAMED = 5; // a step on more targets says how many (the results table names them)
const FRAME_FALLBACK_MS = 250; // render even where animation frames are throttled (hidden tab)

export class PlanSteps extends HTMLElement {
  connectedCallback() {
    this.steps = new Map(); // step id -> node (see startStep)
    this.changed = new Set(); // nodes whose results table is due (drawn once per frame, not per result)
    const heading = uid('plan-steps');
    this.waiting = h('p', { class: 'muted', text: 'Waiting for the plan\'s first step…' });
    this.root = h('ol', { class: 'plan-tree', attrs: { 'aria-labelledby': heading } });
    this.result = h('div', { class: 'plan-result', hidden: true });
    replace(this, h('section', { class: 'plan-steps', attrs: { 'aria-labelledby': heading } },
      h('h2', { id: heading, text: 'Plan steps' }), this.waiting, this.root, this.result));
    this.stream = followExecution(this.getAttribute('execution-id') ?? '', HANDLERS, this);
  }

  disconnectedCallback() {
    this.stream?.close();
    this.stream = null;
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameFallback);
  }

  startStep(data) {
    const node = {
      kind: data.kind,
      targets: data.targets ?? [],
      results: new Map(),
      outputs: new Map(),
      badge: h('span', { class: 'step-badge' }, statusBadge('running')),
      meta: h('span', { class: 'step-meta' }),
      resultsBox: h('div', { class: 'step-results table-scroll', hidden: true }),
      outputBox: h('div', { class: 'step-output', hidden: true }),
      children: data.kind === 'plan' ? h('ol', { class: 'plan-tree' }) : null,
    };
    node.element = h('li', { class: 'plan-step', dataset: { stepId: data.id, kind: data.kind, status: 'running' } },
      h('div', { class: 'step-line' }, node.badge,
        h('span', { class: 'step-kind', text: data.kind }),
        h('code', { class: 'step-object', text: data.object ?? '' }),
        node.targets.length ? h('span', { class: 'step-targets', text: targetsText(node.targets) }) : null,
        node.meta),
      node.resultsBox, node.outputBox, node.children);
    this.steps.set(data.id, node);
    this.listOf(data.parent).append(node.element);
    this.waiting.hidden = true;
  }

  finishStep(data) {
    const node = this.steps.get(data.id);
    if (!node) return;
    const failures = typeof data.failures === 'number'
      ? `${data.failures} failure${data.failures === 1 ? '' : 's'}` : null;
    const took = typeof data.durationSeconds === 'number' ? `${data.durationSeconds.toFixed(2)} s` : null;
    node.meta.textContent = [failures, took].filter(Boolean).join(' · ');
    this.mark(node, data.status === 'success' ? 'success' : 'failure');
  }

  mark(node, status) {
    node.element.dataset.status = status;
    replace(node.badge, statusBadge(status));
  }

  /** Where a step or message goes: its plan step's list, else the top. */
  listOf(parentId) {
    return this.steps.get(parentId)?.children ?? this.root;
  }

  /** A target's result of a step; one Bolt printed outside any step goes to the top plan. */
  stepResult(target, data) {
    const node = this.steps.get(data.step ?? this.root.firstElementChild?.dataset.stepId);
    if (!node) return;
    node.results.set(target, { ...data, target });
    this.changed.add(node);
    this.frame ??= requestAnimationFrame(() => this.drawResults());
    this.frameFallback ??= setTimeout(() => this.drawResults(), FRAME_FALLBACK_MS);
    this.showOutput(node, target, data);
  }

  /** Redraw the results tables of the steps that got results since the last frame. */
  drawResults() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameFallback);
    this.frame = null;
    this.frameFallback = null;
    for (const node of this.changed) {
      node.resultsBox.hidden = false;
      replace(node.resultsBox, resultsTable([...node.results.values()], node.targets));
    }
    this.changed.clear();
  }

  /**
   * A target's whole output of a step, from its result. Not from the live `stdout` events: Bolt
   * writes those to another pipe than its step lines, so a quick step's output can arrive after
   * the next step started (seen with `echo inner` then `echo outer`); the output panes have them live.
   */
  showOutput(node, target, { stdout, stderr }) {
    const texts = [[stdout, 'step-output-text'], [stderr, 'step-output-text err']].filter(([text]) => text);
    node.outputs.get(target)?.remove();
    if (!texts.length) return;
    const shown = h('details', {}, h('summary', { text: `Output of ${target}` }),
      texts.map(([text, cls]) => h('pre', { class: cls, text: stripAnsi(String(text)) })));
    node.outputs.set(target, shown);
    node.outputBox.append(shown);
    node.outputBox.hidden = false;
  }

  message(data) {
    this.listOf(data.step).append(h('li', { class: 'plan-message' },
      h('span', { class: 'visually-hidden', text: 'Message: ' }), String(data.text ?? '')));
    this.waiting.hidden = true;
  }

  planResult(data) {
    const { value, error } = data;
    const json = (shown) => h('pre', { class: 'json plan-value', text: JSON.stringify(shown, null, 2) });
    replace(this.result, error
      ? [h('h3', { text: 'The plan failed' }), h('p', { class: 'plan-error', text: errorText(error) }), error.details ? json(error.details) : null]
      : [h('h3', { text: 'Return value' }), json(value ?? null)]);
    this.result.dataset.outcome = error ? 'error' : 'value';
    this.result.hidden = false;
  }

  /** The execution ended: a step still open never finished (cancelled, timed out, or Bolt stopped). */
  settle(status) {
    for (const node of this.steps.values()) {
      if (node.element.dataset.status === 'running') this.mark(node, ENDED_EARLY.has(status) ? status : 'no_result');
    }
    if (!this.steps.size && this.result.hidden) this.waiting.textContent = 'The plan ran no steps.';
  }
}

function targetsText(targets) {
  return targets.length > TARGETS_NAMED ? `on ${targets.length} targets` : `on ${targets.join(', ')}`;
}

/** What each event type does to the tree (called with the component as `this`). */
const HANDLERS = {
  step(event, data) {
    if (data.phase === 'start') this.startStep(data);
    else this.finishStep(data);
  },
  stepResult(event, data) {
    this.stepResult(event.target ?? data.target, data);
  },
  message(event, data) {
    this.message(data);
  },
  planResult(event, data) {
    this.planResult(data);
  },
  complete(event, data) {
    this.settle(data.status);
  },
};
