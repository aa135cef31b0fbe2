// Form plumbing shared by the run forms: labelled fields with an error slot each, and
// placing the server's validation errors (details: {field: [messages]}) next to their field;
// and the filter forms of the history and admin pages.

import { h, uid } from './dom.js';

/**
 * A labelled field. `name` is the API's field name (`command`, `params.name`...), which is how
 * server errors find it. Returns the wrapper; the control gets an id, aria-describedby and,
 * when `required`, aria-required.
 */
export function field({ name, label, control, hint, required = false, inline = false }) {
  const id = control.id || uid('field');
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  if (required) control.setAttribute('aria-required', 'true');
  const labelEl = h('label', { htmlFor: id }, label, required ? h('span', { class: 'required', attrs: { 'aria-hidden': 'true' }, text: ' *' }) : null);
  if (required) labelEl.append(h('span', { class: 'visually-hidden', text: ' (required)' }));
  return h('div', { class: inline ? 'field field-inline' : 'field', dataset: { field: name } },
    inline ? [control, labelEl] : [labelEl, control], hintEl, error);
}

/** Remove every field error and the form-level message inside `root`. */
export function clearErrors(root) {
  for (const error of root.querySelectorAll('.field-error')) {
    error.hidden = true;
    error.textContent = '';
  }
  for (const control of root.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const box of root.querySelectorAll('.form-error')) {
    box.hidden = true;
    box.textContent = '';
  }
}

/** The field wrapper for an API field name: exact, else the nearest parent name (`tags.0` → `tags`). */
function findField(roots, name) {
  const wrappers = roots.flatMap((root) => [...root.querySelectorAll('[data-field]')]);
  for (let key = name; key; key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '') {
    const found = wrappers.find((w) => w.dataset.field === key);
    if (found) return found;
  }
  return null;
}

/**
 * Show `errors` ({field: [messages]}) next to their fields inside `roots` (an element or a
 * list, searched in order); what has no field goes to `formError` together with `message`.
 * `keepMessage`: show `message` even when every problem sits next to its field (a refusal's
 * message names the policy that refused). Focuses the first invalid control.
 */
export function showErrors(roots, errors, formError, message = '', { keepMessage = false } = {}) {
  roots = Array.isArray(roots) ? roots : [roots];
  const unplaced = [];
  let first = null;
  for (const [name, messages] of Object.entries(errors)) {
    const wrapper = findField(roots, name);
    if (!wrapper) {
      unplaced.push(`${name}: ${messages.join(' ')}`);
      continue;
    }
    const slot = wrapper.querySelector('.field-error');
    // A problem of one item (`tags.1`) says which item; the field's own problem needs no prefix.
    const text = wrapper.dataset.field === name ? messages.join(' ') : `${name}: ${messages.join(' ')}`;
    slot.textContent = [slot.textContent, text].filter(Boolean).join(' ');
    slot.hidden = false;
    const control = wrapper.querySelector('input, select, textarea');
    control?.setAttribute('aria-invalid', 'true');
    first = first ?? control ?? wrapper;
  }
  if (formError && (unplaced.length || message)) {
    // When every problem sits next to its field, a short pointer is enough up here.
    const summary = unplaced.length || !first || keepMessage ? [message, ...unplaced] : ['Please fix the marked fields.'];
    formError.textContent = summary.filter(Boolean).join(' — ');
    formError.hidden = false;
  }
  (first ?? formError)?.focus?.();
}

/** A form-level error box (role=alert, so it is read out when it appears). */
export function formErrorBox() {
  return h('p', { class: 'form-error', hidden: true, tabIndex: -1, attrs: { role: 'alert' } });
}

/**
 * A filter form: the given filter controls, then Apply and Clear. Apply and Clear both call
 * `apply` with the form's data (Clear after the browser has reset the controls).
 */
export function filterForm(ariaLabel, controls, apply) {
  const form = h('form', { class: 'filters', attrs: { role: 'search', 'aria-label': ariaLabel } },
    controls,
    h('div', { class: 'filter filter-actions' },
      h('button', { type: 'submit', class: 'primary', text: 'Apply' }),
      h('button', { type: 'reset', text: 'Clear' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply(new FormData(form));
  });
  form.addEventListener('reset', () => setTimeout(() => apply(new FormData(form))));
  return form;
}
