// Status badges and the per-target results table, shared by the history and execution pages.

import { stripAnsi } from '../ansi.js';
import { h } from '../dom.js';
import { errorText } from '../pieces.js';

export const FINAL_STATUSES = new Set(['success', 'partial', 'failed', 'cancelled', 'timed_out', 'interrupted']);

const STATUS_LABELS = {
  queued: 'Queued',
  running: 'Running',
  success: 'Success',
  partial: 'Partial',
  failed: 'Failed',
  failure: 'Failed',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
  interrupted: 'Interrupted',
  no_result: 'No result',
};

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? String(status ?? 'unknown');
}

/** A coloured badge for an execution or result status (the text says it; colour only helps). */
export function statusBadge(status) {
  return h('span', { class: 'badge', dataset: { status: String(status ?? 'unknown') }, text: statusLabel(status) });
}

/**
 * Table of per-target results, in the given target order (others after). `missing` lists
 * targets of a finished execution that got no result, shown with `missingReason`.
 */
export function resultsTable(results, order = [], { missing = [], missingReason = '' } = {}) {
  const rank = new Map(order.map((name, i) => [name, i]));
  const rows = [...results, ...missing.map((target) => ({ target, status: 'no_result', reason: missingReason }))]
    .sort((a, b) => (rank.get(a.target) ?? 1e9) - (rank.get(b.target) ?? 1e9) || String(a.target).localeCompare(String(b.target)));
  return h('table', { class: 'results-table cards' },
    h('caption', { class: 'visually-hidden', text: 'Results per target' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Target' }),
      h('th', { scope: 'col', text: 'Status' }),
      h('th', { scope: 'col', text: 'Exit code' }),
      h('th', { scope: 'col', text: 'Details' }))),
    h('tbody', {}, rows.map((result) => h('tr', { dataset: { target: result.target } },
      h('th', { scope: 'row', text: result.target }),
      h('td', { dataset: { label: 'Status' } }, statusBadge(result.status)),
      h('td', { class: 'num', dataset: { label: 'Exit code' }, text: result.exitCode ?? '–' }),
      h('td', { class: 'details', dataset: { label: 'Details' }, text: resultDetails(result) })))));
}

function resultDetails(result) {
  if (result.reason) return result.reason;
  if (result.error) return errorText(result.error);
  if (result.value && Object.keys(result.value).length) return JSON.stringify(result.value);
  const out = stripAnsi(result.stdout ?? '').replace(/\s+/g, ' ').trim();
  return out.length > 160 ? `${out.slice(0, 157)}…` : out;
}

/** What an execution did, in a few words (for headings and the history table). */
export function executionTitle(execution) {
  const request = execution.request ?? {};
  switch (execution.kind) {
    case 'command':
      return `Command: ${truncate(String(request.command ?? ''), 120)}`;
    case 'task':
      return `Task ${request.task ?? ''}`;
    case 'puppet':
      return `Puppet run${request.noop ? ' (noop)' : ''}${request.environment ? ` in ${request.environment}` : ''}`;
    case 'package':
      return `Package ${request.action ?? ''} ${request.name ?? ''}${request.version ? ` ${request.version}` : ''}`;
    case 'apply':
      return `Apply ${request.manifest ?? 'inline code'}${request.noop ? ' (noop)' : ''}`;
    case 'plan':
      return `Plan ${request.plan ?? ''}`;
    default:
      return String(execution.kind ?? 'Execution');
  }
}

function truncate(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
