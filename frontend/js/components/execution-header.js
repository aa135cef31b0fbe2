// The top of the execution view: what ran, status, elapsed time, exit code, Bolt's command
// line (expert mode), progress, and the actions (cancel, rerun, copy, download).

import { executionPath } from '../api.js';
import { formatDuration, h, replace, timeElement } from '../dom.js';
import { canRun, session } from '../session.js';
import { expertModeAllowed } from '../settings.js';
import { STATE_LABELS } from '../stream.js';
import { exitCodeMeaning } from './outcome.js';
import { executionTitle, FINAL_STATUSES, statusBadge } from './status.js';

export class ExecutionHeader {
  /** `actions`: {cancel(), rerun(scope), copyAll(), save(format)} callbacks of the viewer. */
  constructor(executionId, actions) {
    this.id = executionId;
    this.title = h('h1', { text: 'Execution' });
    this.badge = h('span', { class: 'status-slot' });
    this.connection = h('span', { class: 'connection', dataset: { state: 'connecting' }, text: STATE_LABELS.connecting });
    this.facts = {
      kind: h('dd'), targets: h('dd'), createdBy: h('dd', { class: 'started-by' }), started: h('dd'), elapsed: h('dd', { class: 'elapsed' }), exit: h('dd', { class: 'exit-code' }),
    };
    this.parent = h('p', { class: 'muted', hidden: true });
    this.outcome = h('p', { class: 'outcome-line', hidden: true });
    this.commandLine = h('code', { class: 'command-line-text' });
    this.commandBox = h('div', { class: 'command-line', hidden: true }, h('span', { class: 'label', text: 'Bolt command line' }), this.commandLine);
    this.progress = h('progress', { max: 100, value: 0, attrs: { 'aria-label': 'Progress' } });
    this.progressText = h('span', { class: 'progress-text', text: 'Waiting for results…' });
    this.progressRow = h('div', { class: 'progress-row' }, this.progress, this.progressText);
    this.buildActions(actions);
    this.notice = h('p', { class: 'notice', hidden: true });
    this.alert = h('div', { class: 'form-error', hidden: true, tabIndex: -1, attrs: { role: 'alert' } });
    this.element = h('section', { class: 'exec-head', attrs: { 'aria-label': 'Execution summary' } },
      h('div', { class: 'exec-title' }, this.title,
        h('div', { class: 'exec-state', tabIndex: -1, attrs: { role: 'status', 'aria-live': 'polite' } }, this.badge, this.connection)),
      this.parent,
      h('dl', { class: 'exec-facts' }, Object.entries({
        kind: 'Kind', targets: 'Targets', createdBy: 'Started by', started: 'Started', elapsed: 'Elapsed', exit: 'Exit code',
      }).map(([key, term]) => h('div', {}, h('dt', { text: term }), this.facts[key]))),
      this.outcome, this.commandBox, this.progressRow, this.actions, this.notice, this.alert);
  }

  buildActions({ cancel, rerun, copyAll, save }) {
    // Cancel and rerun only for roles that may run; the others get a note instead of buttons.
    this.mayRun = canRun();
    if (this.mayRun) {
      this.cancelButton = h('button', { type: 'button', class: 'danger', text: 'Cancel', hidden: true, on: { click: cancel } });
      this.rerunAll = h('button', { type: 'button', text: 'Rerun all', hidden: true, on: { click: () => rerun('all') } });
      this.rerunFailed = h('button', { type: 'button', text: 'Rerun failed only', hidden: true, on: { click: () => rerun('failed') } });
    }
    const roleNote = this.mayRun ? null
      : h('span', { class: 'muted role-note', text: `Your role (${session()?.role ?? 'unknown'}) cannot cancel or rerun.` });
    this.copyFeedback = h('span', { class: 'muted', attrs: { 'aria-live': 'polite' } });
    const download = (format) => h('a', {
      class: 'button', href: `${executionPath(this.id)}/output?format=${format}`, download: '', text: `Download .${format}`,
      on: { click: (event) => { event.preventDefault(); save(format); } }, // with the report header
    });
    this.actions = h('div', { class: 'actions' },
      this.cancelButton, this.rerunAll, this.rerunFailed, roleNote, h('span', { class: 'spacer' }),
      this.copyFeedback,
      h('button', { type: 'button', text: 'Copy all output', on: { click: copyAll } }),
      download('txt'), download('ansi'));
  }

  /** Show an execution record's fixed facts. */
  showRecord(execution) {
    this.title.textContent = executionTitle(execution);
    this.facts.kind.textContent = execution.kind;
    this.facts.targets.textContent = (execution.targets ?? []).join(', ');
    this.facts.createdBy.textContent = execution.createdBy ?? '–';
    replace(this.facts.started, timeElement(execution.startedAt ?? execution.createdAt));
    if (execution.parentId) {
      replace(this.parent, `Rerun (${execution.rerunScope ?? 'all'}) of `,
        h('a', { href: `/executions/${encodeURIComponent(execution.parentId)}`, text: execution.parentId.slice(0, 8) }));
      this.parent.hidden = false;
    }
    this.showCommandLine(execution.commandLine);
    if (!execution.expertMode) {
      this.notice.textContent = 'Expert mode was off for this execution: each target\'s output appears when it finishes, '
        + 'and Bolt\'s log and command line are not shown.'
        + (expertModeAllowed() ? ' Turn expert mode on in the header for live output on new runs.' : '');
      this.notice.hidden = false;
    }
  }

  showCommandLine(text) {
    if (!text) return;
    this.commandLine.textContent = text;
    this.commandBox.hidden = false;
  }

  showStatus(status, summary) {
    replace(this.badge, statusBadge(status));
    if (!this.mayRun) return;
    const final = FINAL_STATUSES.has(status);
    this.cancelButton.hidden = final;
    this.rerunAll.hidden = !final;
    this.rerunFailed.hidden = !final;
    const failed = [...(summary?.failed ?? []), ...(summary?.noResult ?? [])];
    this.rerunFailed.disabled = !failed.length;
    this.rerunFailed.title = failed.length ? `Rerun on ${failed.join(', ')}` : 'No target failed';
  }

  /** The end, in words (who cancelled, the time limit that fired); no more "waiting". */
  showOutcome(reason, status) {
    this.outcome.textContent = reason ?? '';
    this.outcome.hidden = !reason;
    if (FINAL_STATUSES.has(status) && this.progressText.textContent === 'Waiting for results…') {
      this.progressText.textContent = 'Finished';
    }
  }

  showConnection(state) {
    this.connection.dataset.state = state;
    this.connection.textContent = STATE_LABELS[state] ?? state;
  }

  showElapsed(ms, running) {
    this.facts.elapsed.textContent = formatDuration(ms);
    this.facts.elapsed.dataset.running = String(running);
  }

  showExitCode(code) {
    const meaning = exitCodeMeaning(code);
    replace(this.facts.exit, String(code ?? '–'), meaning && code !== 0 ? h('span', { class: 'exit-meaning', text: meaning }) : null);
  }

  /** `progress` event data: {percent, phase, completed, total}. */
  showProgress({ percent, phase, completed, total }) {
    if (typeof percent === 'number') this.progress.value = Math.max(0, Math.min(100, percent));
    const counts = typeof completed === 'number' && typeof total === 'number' ? `${completed} of ${total} ` : '';
    const what = phase === 'targets' ? 'targets done' : (phase ?? '');
    this.progressText.textContent = `${counts}${what}${typeof percent === 'number' ? ` (${Math.round(percent)}%)` : ''}`.trim();
  }

  showAlert(message) {
    this.alert.textContent = message;
    this.alert.hidden = !message;
  }
}
