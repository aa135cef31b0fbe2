// How an execution ended, in words: the reason (who cancelled and when, the timeout that
// fired), what an exit code means, which targets got no result, and the plain-text report
// header that Copy and the downloads start with.

import { formatDuration, formatTime } from '../dom.js';
import { errorText } from '../pieces.js';
import { executionTitle, statusLabel } from './status.js';

const SIGNALS = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 13: 'SIGPIPE', 15: 'SIGTERM' };
const EXIT_CODES = {
  0: 'success',
  1: 'Bolt: the run failed on at least one target',
  2: 'Bolt: the run could not start (bad input or configuration)',
  124: 'stopped by a time limit',
  126: 'found but not executable',
  127: 'command not found',
};
const SIGNAL_CAUSES = {
  SIGTERM: 'stopped by SIGTERM: Boltdeck sends it on Cancel and when the time limit fires',
  SIGKILL: 'killed by SIGKILL: the process did not stop after SIGTERM',
  SIGINT: 'interrupted by SIGINT (Ctrl-C)',
};

/** What an exit code means, or '' when it says nothing beyond "failed". */
export function exitCodeMeaning(code) {
  if (code === null || code === undefined) return '';
  if (EXIT_CODES[code]) return EXIT_CODES[code];
  const signal = code > 128 && code < 160 ? SIGNALS[code - 128] ?? `signal ${code - 128}` : null;
  if (signal) return SIGNAL_CAUSES[signal] ?? `stopped by ${signal}`;
  return code > 0 ? 'failed' : '';
}

/** Why a finished execution ended the way it did (null when its status says it all). */
export function outcomeReason(execution) {
  switch (execution.status) {
    case 'cancelled': {
      const by = execution.cancelledBy;
      return by ? `Cancelled by ${by.user ?? 'an unknown user'} at ${formatTime(by.at)}.` : 'Cancelled.';
    }
    case 'timed_out':
      return `Timed out: the time limit of ${limitText(execution.timeoutSeconds)} fired`
        + `${execution.finishedAt ? ` at ${formatTime(execution.finishedAt)}` : ''}; Bolt was stopped.`;
    case 'interrupted':
      return 'Interrupted: Boltdeck stopped (a restart or a crash) before the run ended.';
    default:
      return null;
  }
}

/** Why a target of a finished execution has no result, from the execution's status. */
export function noResultReason(status) {
  return {
    cancelled: 'no result: cancelled before it finished',
    timed_out: 'no result: the time limit fired before it finished',
    interrupted: 'no result: Boltdeck stopped before it finished',
  }[status] ?? 'no result: Bolt reported nothing for it (unreachable, or Bolt failed)';
}

/** Targets (in page order) that have no result. */
export function targetsWithoutResult(order, results) {
  return order.filter((target) => !results.has(target));
}

function limitText(seconds) {
  if (!seconds) return 'the configured limit';
  return seconds < 60 ? `${seconds} s` : formatDuration(seconds * 1000);
}

/**
 * The header of a copied or downloaded report: what ran, where, how it ended, and every
 * error line the page shows (results' errors and Bolt's own).
 */
export function reportHeader(execution, { results, order, errors = [], target = null }) {
  const targets = target ? [target] : order;
  const lines = [
    `# Boltdeck execution ${execution.id}`,
    `# ${executionTitle(execution)}`,
    `# Targets: ${targets.join(', ')}`,
    `# Status: ${statusLabel(execution.status)}${execution.exitCode !== null && execution.exitCode !== undefined
      ? ` · exit code ${execution.exitCode}${exitCodeMeaning(execution.exitCode) ? ` (${exitCodeMeaning(execution.exitCode)})` : ''}` : ''}`,
  ];
  const reason = outcomeReason(execution);
  if (reason) lines.push(`# ${reason}`);
  lines.push(`# Started by ${execution.createdBy ?? '–'} · created ${formatTime(execution.createdAt)}`
    + ` · started ${formatTime(execution.startedAt)} · finished ${formatTime(execution.finishedAt)}`
    + ` · duration ${formatDuration(execution.durationMs)}`);
  for (const name of targets) {
    const result = results.get(name);
    if (!result) {
      lines.push(`# ${name}: ${noResultReason(execution.status)}`);
      continue;
    }
    const code = result.exitCode !== null && result.exitCode !== undefined ? ` · exit code ${result.exitCode}` : '';
    lines.push(`# ${name}: ${statusLabel(result.status)}${code}${result.error ? ` · ${errorText(result.error)}` : ''}`);
  }
  if (!target) for (const error of errors) lines.push(`# Bolt reported: ${error}`);
  return `${lines.join('\n')}\n\n`;
}
