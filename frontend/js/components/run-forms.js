// Run forms for a set of targets: command, task (generated from metadata), Puppet run, package.
// Each posts to its endpoint with `expertMode` from the header toggle and opens the execution.

import { api } from '../api.js';
import { announce, h, replace } from '../dom.js';
import { clearErrors, field, formErrorBox, showErrors } from '../forms.js';
import { navigate } from '../router.js';
import { canRun, session } from '../session.js';
import { expertMode } from '../settings.js';
import { paramControl } from '../task-params.js';
import { confirmRun, DEFAULT_CONFIRM_ABOVE_TARGETS, riskOf } from './confirm-dialog.js';
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
    const timeout = h('input', { type: 'number', name: 'timeoutSeconds', min: '1', step: 'any', inputMode: 'decimal', placeholder: 'server default' });
    this.options = field({ name: 'timeoutSeconds', label: 'Timeout (seconds)', control: timeout, hint: 'Stop the run after this long.' });
    this.timeout = timeout;
    this.tabs = new Tabs('Run', [
      { key: 'command', label: 'Command', panel: () => this.commandForm() },
      { key: 'task', label: 'Task', panel: () => this.taskForm() },
      { key: 'puppet', label: 'Puppet run', panel: () => this.puppetForm() },
      { key: 'package', label: 'Package', panel: () => this.packageForm() },
    ]);
    this.common = h('div', { class: 'run-common' }, this.targetsField, this.options);
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
    this.loadTaskList(select);
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

  async loadTaskList(select) {
    try {
      const { tasks } = await api('/api/tasks');
      replace(select, h('option', { value: '', text: 'Choose a task…' }),
        tasks.map((task) => h('option', { value: task.name, text: task.name, title: task.description ?? '' })));
    } catch (error) {
      replace(select, h('option', { value: '', text: `Could not list tasks: ${error.message}` }));
    }
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

  // ---------------------------------------------------------------------------- submit

  /** A form posting `read()` (plus targets, expertMode, timeout) to `path`; `check()` runs first. */
  form(path, submitLabel, fields, read, check = () => ({})) {
    const error = formErrorBox();
    const submit = h('button', { type: 'submit', class: 'primary', text: submitLabel });
    const expertNote = h('p', { class: 'hint' });
    const form = h('form', { noValidate: true, attrs: { 'aria-label': submitLabel } },
      error, fields, h('div', { class: 'form-actions' }, submit, expertNote));
    const updateNote = () => {
      expertNote.textContent = expertMode()
        ? 'Expert mode: live output, Bolt\'s log and command line.'
        : 'Expert mode is off: you will see each target\'s result when it finishes.';
    };
    updateNote();
    form.addEventListener('focusin', updateNote);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit(form, error, submit, path, read, check);
    });
    return form;
  }

  async submit(form, error, submit, path, read, check) {
    clearErrors(this);
    const problems = check();
    if (Object.keys(problems).length) {
      showErrors([form, this.common], problems, error, 'Please fix the marked fields.');
      return;
    }
    const body = { targets: this.targets, ...read(), expertMode: expertMode() };
    if (this.timeout.value) body.timeoutSeconds = Number(this.timeout.value);
    const risk = riskOf(path, body, session()?.confirmAboveTargets ?? DEFAULT_CONFIRM_ABOVE_TARGETS);
    if (risk && !(await confirmRun(risk, body.targets))) return;
    submit.disabled = true;
    try {
      const started = await api(path, { method: 'POST', body });
      announce('Execution started');
      navigate(`/executions/${encodeURIComponent(started.executionId)}`);
    } catch (err) {
      // A refusal (403: the role, or the run policy) says why; show that next to the marked fields.
      showErrors([form, this.common], err.fieldErrors ?? {}, error, err.message, { keepMessage: err.status === 403 });
    } finally {
      submit.disabled = false;
    }
  }
}

/** What a user who may not run sees instead of the forms. */
export function roleNote() {
  const role = session()?.role ?? 'unknown';
  return h('p', { class: 'notice role-note', text: `Your role (${role}) can look but not run: starting, cancelling and rerunning executions needs the operator or admin role.` });
}
