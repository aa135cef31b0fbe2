// Inputs for task parameters, generated from Bolt's metadata type strings
// (`Optional[Integer[1,10000]]`, `Enum[install, remove]`, `Sensitive[String]`...).

import { h } from './dom.js';

/** Split `a, 'b, c', Enum[x,y]` on top-level commas. */
function splitArgs(text) {
  const parts = [];
  let depth = 0;
  let quote = null;
  let current = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === '[') {
      depth += 1;
      current += ch;
    } else if (ch === ']') {
      depth -= 1;
      current += ch;
    } else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function unquote(text) {
  return /^(['"]).*\1$/.test(text) ? text.slice(1, -1) : text;
}

/** What kind of input a Puppet type wants: {kind, optional, sensitive, options, step}. */
export function inputSpec(type, sensitive = false) {
  let text = String(type ?? 'Any').trim();
  const spec = { kind: 'auto', optional: false, sensitive, options: [], step: null };
  for (;;) {
    const wrapper = text.match(/^(Optional|Sensitive|NotUndef)\[(.*)\]$/s);
    if (!wrapper) break;
    if (wrapper[1] === 'Optional') spec.optional = true;
    if (wrapper[1] === 'Sensitive') spec.sensitive = true;
    text = wrapper[2].trim();
  }
  const base = text.split('[')[0].trim();
  const args = text.includes('[') ? text.slice(text.indexOf('[') + 1, text.lastIndexOf(']')) : '';
  if (base === 'Boolean') spec.kind = 'checkbox';
  else if (base === 'Integer') Object.assign(spec, { kind: 'number', step: '1' });
  else if (base === 'Float' || base === 'Numeric') Object.assign(spec, { kind: 'number', step: 'any' });
  else if (base === 'Enum') Object.assign(spec, { kind: 'select', options: splitArgs(args).map(unquote) });
  else if (['String', 'Pattern'].includes(base)) spec.kind = 'text';
  else if (['Array', 'Hash', 'Struct', 'Tuple'].includes(base)) spec.kind = 'json';
  // Sensitive values are masked; structured ones stay JSON text areas.
  if (spec.sensitive && ['text', 'auto', 'number', 'select'].includes(spec.kind)) spec.kind = 'password';
  return spec;
}

/**
 * A control for one parameter from /api/tasks/<name> (`{name, type, description, required,
 * sensitive, default}`) and `read()`, which answers `{present, value}` or `{error}`.
 */
export function paramControl(param) {
  const spec = inputSpec(param.type, Boolean(param.sensitive));
  const hasDefault = Object.hasOwn(param, 'default');
  const control = makeControl(spec, param, hasDefault);
  return { control, spec, read: () => readControl(control, spec, param, hasDefault) };
}

function makeControl(spec, param, hasDefault) {
  const name = `param-${param.name}`;
  const value = hasDefault ? param.default : undefined;
  switch (spec.kind) {
    case 'checkbox':
      return h('input', { type: 'checkbox', name, checked: value === true });
    case 'number':
      return h('input', { type: 'number', name, step: spec.step, inputMode: spec.step === '1' ? 'numeric' : 'decimal', value: value ?? '' });
    case 'select':
      return h('select', { name },
        !param.required || !hasDefault ? h('option', { value: '', text: param.required ? 'Choose…' : '(not set)' }) : null,
        spec.options.map((option) => h('option', { value: option, text: option, selected: option === value })));
    case 'password':
      return h('input', { type: 'password', name, autocomplete: 'off', value: value ?? '' });
    case 'json':
      return h('textarea', { name, rows: 3, class: 'mono', spellcheck: false, placeholder: 'JSON', value: value === undefined ? '' : JSON.stringify(value, null, 2) });
    default:
      return h('input', { type: 'text', name, spellcheck: false, value: value === undefined ? '' : (typeof value === 'string' ? value : JSON.stringify(value)) });
  }
}

function readControl(control, spec, param, hasDefault) {
  if (spec.kind === 'checkbox') {
    // Unchecked optional Booleans without a default are left out rather than sent as false.
    return { present: control.checked || param.required || hasDefault, value: control.checked };
  }
  const raw = control.value;
  // Text keeps its spaces as typed; for numbers, JSON and the like blank means "not given".
  if (raw === '' || (raw.trim() === '' && !['text', 'password'].includes(spec.kind))) return missing(param);
  if (spec.kind === 'number') {
    const number = Number(raw);
    return Number.isFinite(number) ? { present: true, value: number } : { error: 'must be a number' };
  }
  if (spec.kind === 'json') {
    try {
      return { present: true, value: JSON.parse(raw) };
    } catch {
      return { error: 'must be valid JSON' };
    }
  }
  if (spec.kind === 'auto') return { present: true, value: parseLoosely(raw) };
  return { present: true, value: raw };
}

function missing(param) {
  return param.required ? { error: 'is required' } : { present: false };
}

/** For untyped parameters: JSON when it parses as JSON, else the text itself. */
function parseLoosely(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
