// Run forms for a set of targets: command, task and plan (generated from metadata), Puppet run,
// `bolt apply`, package. Each posts to its endpoint with `expertMode` from the header toggle and
// opens the execution; `runForm` is the same machinery for forms elsewhere (the plans page).

import { api } from '../api.js';
import { announce, h, replace } from '../dom.js';
import { clearErrors, field, formErrorBox, showErrors } from '../forms.js';
import { navigate } from '../router.js';
import { canRun, session } from '../session.js';
import { expertMode } from '../settings.js';
import { paramControl } from '../task-params.js';
import { confirmRun, DEFAULT_CONFIRM_ABOVE_TARGETS, riskOf } from './confirm-dialog.js';
import { PlanParams, planDescription } from './plan-form.js';
import { Tabs } from './tabs.js';

export class RunForms extends HTMLElement {
  /** Inventory target or group names the forms run on. */
  set targets(names) {
    this._targets = [...names];
    if (this.isConnected) this.build();
  }

  get targets() {
    return this._targets ?? [];
  }

  connectedCallback() {
    this.build();
  }

  build() {
    if (!canRun()) {
      replace(this, roleNote());
      return;
    }
    this.targetsField = h('div', { class: 'field targets-field', dataset: { field: 'targets' } },
      h('span', { class: 'label', text: 'Targets' }),
      h('ul', { class: 'chips', attrs: { 'aria-label': 'Targets' } },
        this.targets.map((name) => h('li', { class: 'chip', text: name }))),
      h('p', { class: 'field-error', hidden: true, attrs: { role: 'alert' } }));
    this.timeout = timeoutField();
    this.common = h('div', { class: 'run-common' }, this.targetsField, this.timeout.wrapper); // before the tabs: forms find errors' fields there
    this.tabs = new Tabs('Run', [
      { key: 'command', label: 'Command', panel: () => this.commandForm() },
      { key: 'task', label: 'Task', panel: () => this.taskForm() },
      { key: 'plan', label: 'Plan', panel: () => this.planForm() },
      { key: 'puppet', label: 'Puppet run', panel: () => this.puppetForm() },
      { key: 'apply', label: 'Apply', panel: () => this.applyForm() },
      { key: 'package', label: 'Package', panel: () => this.packageForm() },
    ]);
    replace(this, h('div', { class: 'run-forms card' }, this.common, this.tabs.element));
  }

  // ---------------------------------------------------------------------------- forms

  commandForm() {
    const command = h('textarea', { name: 'command', rows: 3, class: 'mono', spellcheck: false, placeholder: 'uptime' });
    const runAs = h('input', { type: 'text', name: 'runAs', autocomplete: 'off', placeholder: 'optional' });
    return this.form('/api/commands', 'Run command', [
      field({ name: 'command', label: 'Command', control: command, required: true, hint: 'Runs in the target\'s shell.' }),
      field({ name: 'runAs', label: 'Run as user', control: runAs }),
    ], () => ({ command: command.value, ...(runAs.value.trim() ? { runAs: runAs.value.trim() } : {}) }),
    () => (command.value.trim() ? {} : { command: ['is required'] }));
  }

  taskForm() {
    const select = h('select', { name: 'task' }, h('option', { value: '', text: 'Loading tasks…' }));
    const description = h('p', { class: 'task-description muted' });
    const paramsBox = h('fieldset', { class: 'params', hidden: true }, h('legend', { text: 'Parameters' }));
    let readers = [];
    const load = async () => {
      readers = [];
      paramsBox.hidden = true;
      description.textContent = '';
      if (!select.value) return;
      try {
        const task = await api(`/api/tasks/${encodeURIComponent(select.value)}`);
        description.textContent = task.description ?? '';
        readers = (task.parameters ?? []).map((param) => this.paramField(param));
        replace(paramsBox, h('legend', { text: 'Parameters' }),
          readers.length ? readers.map((r) => r.wrapper) : h('p', { class: 'muted', text: 'This task takes no parameters.' }));
        paramsBox.hidden = false;
      } catch (error) {
        description.textContent = `Could not read the task's metadata: ${error.message}`;
      }
    };
    select.addEventListener('change', load);
    loadChoices(select, '/api/tasks', 'tasks', 'a task');
    const read = () => {
      const params = {};
      for (const reader of readers) {
        const { present, value } = reader.read();
        if (present) params[reader.name] = value;
      }
      return { task: select.value, params };
    };
    const check = () => {
      if (!select.value) return { task: ['choose a task'] };
      const errors = {};
      for (const reader of readers) {
        const { error } = reader.read();
        if (error) errors[`params.${reader.name}`] = [error];
      }
      return errors;
    };
    return this.form('/api/tasks/run', 'Run task', [
      field({ name: 'task', label: 'Task', control: select, required: true }), description, paramsBox,
    ], read, check);
  }

  paramField(param) {
    const { control, spec, read } = paramControl(param);
    const hint = [param.type, param.description].filter(Boolean).join(' — ');
    const wrapper = field({
      name: `params.${param.name}`, label: param.name, control, hint, required: Boolean(param.required), inline: spec.kind === 'checkbox',
    });
    wrapper.dataset.kind = spec.kind;
    return { name: param.name, wrapper, read };
  }

  /** A plan whose TargetSpec parameter (`targets`, or its only one) gets these forms' targets. */
  planForm() {
    const select = h('select', { name: 'plan' }, h('option', { value: '', text: 'Loading plans…' }));
    const description = h('p', { class: 'task-description muted' });
    const box = h('div', { class: 'plan-params' });
    let params = null;
    let problem = '';
    select.addEventListener('change', async () => {
      params = null;
      problem = '';
      description.textContent = '';
      box.replaceChildren();
      if (!select.value) return;
      const name = select.value;
      try {
        const plan = await api(`/api/plans/${encodeURIComponent(name)}`);
        if (select.value !== name) return; // another plan was chosen meanwhile
        description.textContent = planDescription(plan);
        params = new PlanParams(plan, { targetsGiven: true });
        box.replaceChildren(params.element);
      } catch (error) {
        problem = `could not read its metadata: ${error.message}`;
        description.textContent = `The plan ${problem}`;
      }
    });
    loadChoices(select, '/api/plans', 'plans', 'a plan');
    return this.form('/api/plans/run', 'Run plan', [
      field({ name: 'plan', label: 'Plan', control: select, required: true }), description, box,
    ], () => ({ plan: select.value, params: params?.read() ?? {} }),
    () => (params ? params.check() : { plan: [problem || (select.value ? 'is still loading' : 'choose a plan')] }));
  }

  puppetForm() {
    const noop = h('input', { type: 'checkbox', name: 'noop', checked: true }); // a real run must be chosen
    const debug = h('input', { type: 'checkbox', name: 'debug' });
    const environment = h('input', { type: 'text', name: 'environment', placeholder: 'production', autocomplete: 'off' });
    const tags = h('input', { type: 'text', name: 'tags', placeholder: 'ntp, ssh', autocomplete: 'off' });
    return this.form('/api/puppet/runs', 'Start Puppet run', [
      field({ name: 'noop', label: 'No-op (report what would change)', control: noop, inline: true }),
      field({ name: 'environment', label: 'Environment', control: environment }),
      field({ name: 'tags', label: 'Tags', control: tags, hint: 'Comma-separated; only resources with these tags are applied.' }),
      field({ name: 'debug', label: 'Debug output', control: debug, inline: true }),
    ], () => ({
      noop: noop.checked,
      debug: debug.checked,
      tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
      ...(environment.value.trim() ? { environment: environment.value.trim() } : {}),
    }));
  }

  /** `bolt apply` of inline Puppet code or of a manifest file of the Bolt project. */
  applyForm() {
    const code = h('textarea', { name: 'code', rows: 5, class: 'mono', spellcheck: false, placeholder: "notify { 'hello': }" });
    const manifest = h('input', { type: 'text', name: 'manifest', autocomplete: 'off', spellcheck: false, placeholder: 'manifests/site.pp' });
    const noop = h('input', { type: 'checkbox', name: 'noop', checked: true }); // as for Puppet runs: changing is a choice
    const codeField = field({ name: 'code', label: 'Puppet code', control: code, required: true });
    const manifestField = field({
      name: 'manifest', label: 'Manifest', control: manifest, required: true, hint: 'A .pp file of the Bolt project, relative to it.',
    });
    const source = choice('Apply', [['code', 'Inline code'], ['manifest', 'Manifest file']], (value) => {
      codeField.hidden = value !== 'code';
      manifestField.hidden = value !== 'manifest';
    });
    const fromFile = () => source.value() === 'manifest';
    return this.form('/api/apply/runs', 'Run apply', [
      source.element, codeField, manifestField,
      field({ name: 'noop', label: 'No-op (report what would change)', control: noop, inline: true }),
    ], () => ({ ...(fromFile() ? { manifest: manifest.value.trim() } : { code: code.value }), noop: noop.checked }),
    () => {
      if (fromFile()) return manifest.value.trim() ? {} : { manifest: ['is required'] };
      return code.value.trim() ? {} : { code: ['is required'] };
    });
  }

  packageForm() {
    // `status` first: the default changes nothing.
    const action = h('select', { name: 'action' }, ['status', 'install', 'upgrade', 'uninstall'].map((a) => h('option', { value: a, text: a })));
    const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', spellcheck: false, placeholder: 'nginx' });
    const version = h('input', { type: 'text', name: 'version', autocomplete: 'off', spellcheck: false, placeholder: 'optional' });
    return this.form('/api/packages', 'Run package action', [
      field({ name: 'action', label: 'Action', control: action, required: true }),
      field({ name: 'name', label: 'Package name', control: name, required: true }),
      field({ name: 'version', label: 'Version', control: version }),
    ], () => ({ action: action.value, name: name.value.trim(), ...(version.value.trim() ? { version: version.value.trim() } : {}) }),
    () => (name.value.trim() ? {} : { name: ['is required'] }));
  }

  /** A form posting `read()` plus the targets and the timeout to `path`; `check()` runs first. */
  form(path, submitLabel, fields, read, check) {
    return runForm({
      path, submitLabel, fields, check, errorRoots: [this.common],
      body: () => ({ targets: this.targets, ...read(), ...this.timeout.read() }),
    });
  }
}

// ------------------------------------------------------------------------------ shared pieces

/**
 * A run form: `fields`, then the submit button and a note on expert mode. On submit, `check()`
 * answers problems ({field: [messages]}) found before asking the server; else `body()` (the
 * request without `expertMode`) is posted to `path`, after a confirmation for risky runs on
 * `targetsOf(body)`, and the new execution opens. Server errors land next to their fields in the
 * form or in `errorRoots`.
 */
export function runForm({ path, submitLabel, fields, body, check = () => ({}), errorRoots = [], targetsOf = (b) => b.targets }) {
  const error = formErrorBox();
  const submit = h('button', { type: 'submit', class: 'primary', text: submitLabel });
  const expertNote = h('p', { class: 'hint' });
  const form = h('form', { noValidate: true, attrs: { 'aria-label': submitLabel } },
    error, fields, h('div', { class: 'form-actions' }, submit, expertNote));
  const roots = [form, ...errorRoots];
  const updateNote = () => {
    expertNote.textContent = expertMode()
      ? 'Expert mode: live output, Bolt\'s log and command line.'
      : 'Expert mode is off: you will see each target\'s result when it finishes.';
  };
  updateNote();
  form.addEventListener('focusin', updateNote);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const root of roots) clearErrors(root);
    const problems = check();
    if (Object.keys(problems).length) {
      showErrors(roots, problems, error, 'Please fix the marked fields.');
      return;
    }
    const request = { ...body(), expertMode: expertMode() };
    const targets = targetsOf(request);
    const risk = riskOf(path, { ...request, targets }, session()?.confirmAboveTargets ?? DEFAULT_CONFIRM_ABOVE_TARGETS);
    if (risk && !(await confirmRun(risk, targets))) return;
    submit.disabled = true;
    try {
      const started = await api(path, { method: 'POST', body: request });
      announce('Execution started');
      navigate(`/executions/${encodeURIComponent(started.executionId)}`);
    } catch (err) {
      // A refusal (403: the role, or the run policy) says why; show that next to the marked fields.
      showErrors(roots, err.fieldErrors ?? {}, error, err.message, { keepMessage: err.status === 403 });
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The timeout field of the run forms; `read()` answers `{timeoutSeconds}` or nothing. */
export function timeoutField() {
  const control = h('input', { type: 'number', name: 'timeoutSeconds', min: '1', step: 'any', inputMode: 'decimal', placeholder: 'server default' });
  return {
    wrapper: field({ name: 'timeoutSeconds', label: 'Timeout (seconds)', control, hint: 'Stop the run after this long.' }),
    read: () => (control.value ? { timeoutSeconds: Number(control.value) } : {}),
  };
}

/** What a user who may not run sees instead of the forms. */
export function roleNote() {
  const role = session()?.role ?? 'unknown';
  return h('p', { class: 'notice role-note', text: `Your role (${role}) can look but not run: starting, cancelling and rerunning executions needs the operator or admin role.` });
}

/** Fill `select` with the names listed at `path` (`{[key]: [{name, description}]}`). */
async function loadChoices(select, path, key, what) {
  try {
    const items = (await api(path))[key];
    replace(select, h('option', { value: '', text: `Choose ${what}…` }),
      items.map((item) => h('option', { value: item.name, text: item.name, title: item.description ?? '' })));
  } catch (error) {
    replace(select, h('option', { value: '', text: `Could not list ${key}: ${error.message}` }));
  }
}

/** Segmented radio buttons (`options`: [[value, label]], the first chosen); `onChange(value)` also runs at once. */
function choice(legend, options, onChange) {
  const name = `choice-${Math.random().toString(36).slice(2)}`;
  const radios = options.map(([value], i) => h('input', { type: 'radio', name, value, checked: i === 0, on: { change: () => onChange(value) } }));
  onChange(options[0][0]);
  return {
    element: h('fieldset', { class: 'segmented choice' },
      h('legend', { class: 'visually-hidden', text: legend }),
      options.map(([, label], i) => h('label', { class: 'segmented-option' }, radios[i], h('span', { text: label })))),
    value: () => radios.find((radio) => radio.checked).value,
  };
}
