// A plan's parameters as form fields, generated from GET /api/plans/<name>: typed inputs from
// the Puppet types (as for tasks), a picker of inventory targets and groups for each TargetSpec
// parameter, Sensitive ones as password inputs, defaults as placeholders (Bolt fills them in).

import { api, problemText } from '../api.js';
import { h, uid } from '../dom.js';
import { field } from '../forms.js';
import { paramControl } from '../task-params.js';

const FILTER_ABOVE = 8; // pickers with more choices than this get a filter box

/** One line about a plan: its summary or description. */
export function planDescription(plan) {
  return plan.summary || plan.description || '';
}

/**
 * The TargetSpec parameter a run's `targets` fill: the one named `targets`, else the only one
 * (the server's rule), or null.
 */
export function targetsParameter(plan) {
  const specs = (plan.parameters ?? []).filter((param) => param.targetSpec);
  return specs.find((param) => param.name === 'targets') ?? (specs.length === 1 ? specs[0] : null);
}

export class PlanParams {
  /**
   * Fields for `plan`'s parameters. `targetsGiven`: the run names its targets (a node's run
   * forms), which fill `targetsParameter(plan)`; that one gets no field.
   */
  constructor(plan, { targetsGiven = false } = {}) {
    this.plan = plan;
    this.targetsGiven = targetsGiven;
    this.filled = targetsGiven ? targetsParameter(plan) : null;
    const shown = (plan.parameters ?? []).filter((param) => param !== this.filled);
    const inventory = shown.some((param) => param.targetSpec) ? api('/api/inventory') : null; // one request for all pickers
    this.readers = shown.map((param) => (param.targetSpec ? targetPicker(param, inventory) : typedField(param)));
    const note = this.filled
      ? h('p', { class: 'hint' }, 'The run\'s targets above are the plan\'s ', h('code', { text: this.filled.name }), '.')
      : null;
    this.element = h('fieldset', { class: 'params' }, h('legend', { text: 'Parameters' }), note,
      this.readers.length ? this.readers.map((reader) => reader.wrapper)
        : (note ? null : h('p', { class: 'muted', text: 'This plan takes no parameters.' })));
  }

  /** The `params` of the request: every parameter given a value. */
  read() {
    const params = {};
    for (const reader of this.readers) {
      const { present, value } = reader.read();
      if (present) params[reader.name] = value;
    }
    return params;
  }

  /** Problems found before asking the server, as {field: [messages]}. */
  check() {
    if (this.targetsGiven && !this.filled) {
      return { plan: ['takes no TargetSpec parameter for these targets: run it from the Plans page'] };
    }
    const errors = {};
    for (const reader of this.readers) {
      const { error } = reader.read();
      if (error) errors[`params.${reader.name}`] = [error];
    }
    return errors;
  }

  /** Every target and group chosen in the pickers (for the confirmation of runs on many). */
  chosenTargets() {
    return [...new Set(this.readers.filter((reader) => reader.targetSpec).flatMap((reader) => reader.read().value ?? []))];
  }
}

/** A typed input; a default is a placeholder, so leaving the field empty lets Bolt apply it. */
function typedField(param) {
  const hasDefault = Object.hasOwn(param, 'default');
  const { default: byDefault, ...rest } = param;
  // A checkbox cannot show a placeholder: it starts as the default says and is always sent.
  const checked = byDefault === true || byDefault === 'true';
  const { control, spec, read } = paramControl(hasDefault && isBooleanDefault(byDefault) ? { ...rest, default: checked } : rest);
  const secret = param.sensitive || spec.kind === 'password'; // a secret's default stays out of sight
  const shown = hasDefault ? (secret ? 'has a default' : `default ${defaultText(byDefault)}`) : null;
  if (hasDefault && !secret && 'placeholder' in control) control.placeholder = shown;
  const hint = [param.type, param.description, shown].filter(Boolean).join(' — ');
  const wrapper = field({
    name: `params.${param.name}`, label: param.name, control, hint, required: Boolean(param.required), inline: spec.kind === 'checkbox',
  });
  wrapper.dataset.kind = spec.kind;
  return { name: param.name, wrapper, read };
}

function isBooleanDefault(value) {
  return typeof value === 'boolean' || value === 'true' || value === 'false';
}

/** Bolt gives a default as the Puppet expression of the plan's source (`'world'`, `3`). */
function defaultText(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Checkboxes for the inventory's groups and targets; `read()` answers the chosen names. */
function targetPicker(param, inventoryLoaded) {
  const id = uid('picker');
  const options = h('div', { class: 'picker-options' }, h('p', { class: 'muted', text: 'Loading the inventory…' }));
  const filter = h('input', { type: 'search', hidden: true, placeholder: 'filter', attrs: { 'aria-label': `Filter the choices for ${param.name}` } });
  const hint = h('p', { class: 'hint', id: `${id}-hint`, text: [param.type, param.description].filter(Boolean).join(' — ') });
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const wrapper = h('fieldset', {
    class: 'field target-picker', dataset: { field: `params.${param.name}`, kind: 'targets' },
    attrs: { 'aria-describedby': `${hint.id} ${error.id}` },
  },
  h('legend', {}, param.name, param.required ? [h('span', { class: 'required', attrs: { 'aria-hidden': 'true' }, text: ' *' }),
    h('span', { class: 'visually-hidden', text: ' (required)' })] : null),
  hint, filter, options, error);
  inventoryLoaded.then((found) => fillPicker(options, filter, param.name, found),
    (problem) => options.replaceChildren(h('p', { class: 'form-error', text: `Could not read the inventory: ${problemText(problem)}` })));
  const read = () => {
    const chosen = [...options.querySelectorAll('input:checked')].map((box) => box.value);
    if (chosen.length) return { present: true, value: chosen };
    return param.required ? { error: 'choose at least one target or group' } : { present: false };
  };
  return { name: param.name, targetSpec: true, wrapper, read };
}

function fillPicker(options, filter, name, { groups = [], targets = [] }) {
  const box = (item) => h('label', { class: 'check-option', dataset: { name: item.name } },
    h('input', { type: 'checkbox', name: `param-${name}`, value: item.name }), h('span', { text: item.name }));
  const list = (label, items) => (items.length
    ? h('div', { class: 'picker-list', attrs: { role: 'group', 'aria-label': label } }, h('span', { class: 'picker-kind', text: label }), items.map(box))
    : null);
  options.replaceChildren(list('Groups', groups), list('Targets', targets));
  if (groups.length + targets.length <= FILTER_ABOVE) return;
  filter.hidden = false;
  filter.addEventListener('input', () => {
    const needle = filter.value.trim().toLowerCase();
    for (const label of options.querySelectorAll('label')) {
      // A chosen name stays visible, so what is sent is always on screen.
      label.hidden = Boolean(needle) && !label.dataset.name.toLowerCase().includes(needle) && !label.querySelector('input').checked;
    }
  });
}
