// RealtimeOutputViewer (<bd-output-viewer execution-id="…">): one execution, live.
// It follows the event log through ExecutionStream, batches DOM work per animation frame,
// and shows per-target panes (stdout and stderr, merged or apart, with search, timestamps
// and keyboard shortcuts), Bolt's log, progress, the results table and the controls.

import { api, apiText, executionPath } from '../api.js';
import { copyText, downloadText, h, replace } from '../dom.js';
import { OutputPane } from '../output-pane.js';
import { SERVER_MATCHES } from '../output-search.js';
import { countLines, errorText, LOG_PANE, piecesOf } from '../pieces.js';
import { navigate } from '../router.js';
import { ExecutionStream } from '../stream.js';
import { ExecutionHeader } from './execution-header.js';
import { ProgressBoard } from './progress-board.js';
import { PuppetResourceView } from './resource-view.js';
import { noResultReason, outcomeReason, reportHeader, targetsWithoutResult } from './outcome.js';
import { FINAL_STATUSES, resultsTable, statusLabel } from './status.js';
import { Tabs } from './tabs.js';

const MAX_EARLIER_EVENTS = 256; // events per request when paging back
const FRAME_FALLBACK_MS = 250; // flush even where animation frames are throttled (hidden tab)
const FRAME_BUDGET_MS = 12; // time for applying events per frame (one event always goes through)
// While results stream in, the results table (a row per target) is redrawn at most this often:
// redrawing 200 rows on every frame that brought a result made 300-800 ms tasks (issue 16).
const RESULTS_REDRAW_MS = 1000;
/** Single-key shortcuts of the output section (only while the focus is in it: WCAG 2.1.4). */
const SHORTCUTS = [
  ['/', 'Search the output'], ['N', 'Next match'], ['Shift+N', 'Previous match'],
  ['T', 'Timestamps on or off'], ['W', 'Wrap lines on or off'], ['F', 'Follow live output'],
];

export class RealtimeOutputViewer extends HTMLElement {
  connectedCallback() {
    this.executionId = this.getAttribute('execution-id');
    this.queue = [];
    this.panes = new Map();
    this.toggles = new Map(); // pane key -> {wrap, times} checkboxes, for the shortcuts
    this.touched = new Set();
    this.results = new Map();
    this.order = [];
    this.pendingPanes = []; // targets whose tab is still to be made, in order (see createPendingPanes)
    this.errors = [];
    this.state = { status: null, summary: null, startedAt: null, durationMs: null, exitCode: null };
    this.build();
    this.load();
  }

  disconnectedCallback() {
    this.stream?.close();
    this.stream = null;
    clearInterval(this.ticker);
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameFallback);
    clearTimeout(this.resultsTimer);
    this.frame = null;
    this.resultsTimer = null;
  }

  build() {
    this.header = new ExecutionHeader(this.executionId, {
      cancel: () => this.cancel(),
      rerun: (scope) => this.rerun(scope),
      copyAll: () => this.copy(null),
      save: (format) => this.save(format, null),
    });
    this.tabs = new Tabs('Output', [], { onSelect: (key) => this.panes.get(key)?.shown() });
    this.resultsBox = h('div', { class: 'table-scroll' }, h('p', { class: 'muted', text: 'No results yet.' }));
    this.progressBoard = new ProgressBoard();
    this.resourceView = new PuppetResourceView();
    replace(this,
      this.header.element,
      this.progressBoard.element,
      this.resourceView.element,
      h('section', { class: 'output-section', attrs: { 'aria-labelledby': 'output-heading' }, on: { keydown: (event) => this.onKey(event) } },
        h('h2', { id: 'output-heading', text: 'Output' }), shortcutHelp(), this.tabs.element),
      h('section', { class: 'results', attrs: { 'aria-labelledby': 'results-heading' } },
        h('h2', { id: 'results-heading', text: 'Results' }), this.resultsBox));
  }

  async load() {
    let execution;
    try {
      execution = await api(executionPath(this.executionId));
    } catch (error) {
      this.header.title.textContent = error.status === 404 ? 'Execution not found' : 'Execution not available';
      this.header.showAlert(error.status === 404 ? `There is no execution ${this.executionId}.` : error.message);
      this.header.showConnection('failed');
      // Nothing to act on: no buttons, no empty output or results.
      for (const part of [this.header.actions, this.header.progressRow, this.header.element.querySelector('.exec-facts'), ...this.querySelectorAll('section.output-section, section.results')]) part.hidden = true;
      return;
    }
    if (!this.isConnected) return;
    this.record = execution;
    this.expertMode = Boolean(execution.expertMode);
    this.header.showRecord(execution);
    this.showRecordState(execution);
    this.ensurePane(LOG_PANE);
    this.stream = new ExecutionStream(this.executionId, {
      onEvents: (events) => this.enqueue(events),
      onState: (state) => this.showConnection(state),
    }).start();
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  showRecordState(execution) {
    Object.assign(this.state, {
      status: execution.status,
      summary: execution.summary,
      startedAt: execution.startedAt ? Date.parse(execution.startedAt) : null,
      durationMs: execution.durationMs,
      exitCode: execution.exitCode,
    });
    for (const result of execution.results ?? []) {
      this.results.set(result.target, result);
      this.markTab(result.target, result.status);
      if (result.puppet) this.resourceView.summary(result.target, result.puppet);
    }
    this.header.showStatus(execution.status, execution.summary);
    this.header.showExitCode(execution.exitCode);
    this.renderResults();
    this.tick();
  }

  // ---------------------------------------------------------------------------- events

  enqueue(events) {
    for (const event of events) this.queue.push(event);
    if (this.queue.length) this.scheduleFlush();
  }

  scheduleFlush() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
    this.frameFallback = setTimeout(() => this.flush(), FRAME_FALLBACK_MS);
  }

  /** The targets' tabs, in order, a frame's budget at a time: 200 made at once blocked the page for 130 ms. */
  createPendingPanes(deadline) {
    while (this.pendingPanes.length && performance.now() < deadline) this.ensurePane(this.pendingPanes[0]);
  }

  /**
   * Apply queued events, then touch the DOM once. Work per frame is bounded: events left over
   * when the time budget is spent wait for the next frame, so a flood never blocks the page.
   */
  flush() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameFallback);
    this.frame = null;
    this.dirty = { summary: false, results: false };
    const deadline = performance.now() + FRAME_BUDGET_MS;
    let done = 0;
    while (done < this.queue.length && (done === 0 || performance.now() < deadline)) {
      this.apply(this.queue[done]);
      done += 1;
    }
    this.queue = done === this.queue.length ? [] : this.queue.slice(done);
    this.createPendingPanes(deadline);
    if (this.queue.length || this.pendingPanes.length) this.scheduleFlush();
    for (const pane of this.touched) pane.render();
    this.touched.clear();
    if (this.dirty.summary) this.header.showStatus(this.state.status, this.state.summary);
    if (this.dirty.results) this.renderResults();
    if (this.finishing && !this.queue.length) this.showConnection('finished');
  }

  /** "Finished" only once every event received is on the page (they are applied a frame later). */
  showConnection(state) {
    this.finishing = state === 'finished' && this.queue.length > 0;
    if (!this.finishing) this.header.showConnection(state);
  }

  apply(event) {
    for (const piece of timedPieces(event, this.expertMode)) {
      const pane = this.ensurePane(piece.pane);
      pane.add(piece);
      this.touched.add(pane);
    }
    HANDLERS[event.type]?.call(this, event, event.data ?? {});
  }

  setStatus(status) {
    if (status === this.state.status) return;
    this.state.status = status;
    this.dirty.summary = true; // the badge sits in a role=status region: screen readers hear the change
  }

  /** After the end, read the stored results once more (the complete truth, also without expert mode). */
  async refreshResults() {
    try {
      const execution = await api(executionPath(this.executionId));
      if (!this.isConnected) return;
      this.record = execution;
      for (const result of execution.results ?? []) {
        this.results.set(result.target, result);
        this.markTab(result.target, result.status);
      }
      this.renderResults();
    } catch {
      // the results from the stream stay on the page
    }
  }

  tick() {
    const { status, startedAt, durationMs } = this.state;
    if (FINAL_STATUSES.has(status)) {
      this.header.showElapsed(durationMs ?? (startedAt ? Date.now() - startedAt : null), false);
      clearInterval(this.ticker);
    } else {
      this.header.showElapsed(startedAt ? Date.now() - startedAt : 0, status === 'running');
    }
  }

  /** The results so far; once finished, also each target that got none, and why the run ended. */
  renderResults() {
    const status = this.state.status;
    const final = FINAL_STATUSES.has(status);
    const wait = (this.resultsDrawnAt ?? -Infinity) + RESULTS_REDRAW_MS - performance.now();
    if (!final && wait > 0) {
      this.resultsTimer ??= setTimeout(() => { this.resultsTimer = null; this.renderResults(); }, wait);
      return;
    }
    clearTimeout(this.resultsTimer);
    this.resultsTimer = null;
    this.resultsDrawnAt = performance.now();
    const missing = final ? targetsWithoutResult(this.targetOrder(), this.results) : [];
    for (const target of missing) this.markTab(target, 'no_result');
    if (final) this.header.showOutcome(outcomeReason({ ...this.record, status }), status);
    replace(this.resultsBox, this.results.size || missing.length
      ? resultsTable([...this.results.values()], this.order, { missing, missingReason: noResultReason(status) })
      : h('p', { class: 'muted', text: 'No results yet.' }));
  }

  /** Every target of the run: expanded from the start event, else as asked (cancelled while queued). */
  targetOrder() {
    return this.order.length ? this.order : (this.record?.targets ?? []);
  }

  // ---------------------------------------------------------------------------- panes

  ensurePane(key) {
    let pane = this.panes.get(key);
    if (pane) return pane;
    const waiting = this.pendingPanes.indexOf(key);
    if (waiting !== -1) { // output for a target whose tab is still to come: the tabs before it first
      const earlier = this.pendingPanes.splice(0, waiting + 1).slice(0, -1);
      for (const target of earlier) this.ensurePane(target);
    }
    const isLog = key === LOG_PANE;
    const label = isLog ? 'Bolt log' : (key || '(no target)');
    pane = new OutputPane({
      key, label, loadEarlier: (before, lines) => this.fetchEarlier(key, before, lines), server: this.paneOnServer(key),
    });
    this.panes.set(key, pane);
    const button = this.tabs.add({
      key, label, panel: this.panePanel(pane, isLog), before: isLog ? undefined : LOG_PANE,
    });
    button.append(h('span', { class: 'tab-status', attrs: { 'aria-hidden': 'true' } }));
    const result = this.results.get(key);
    if (result) this.markTab(key, result.status); // its result came (or was loaded) before its first output
    if (!isLog && this.tabs.selected === LOG_PANE && this.panes.size === 2) this.tabs.select(key);
    return pane;
  }

  panePanel(pane, isLog) {
    const tools = [h('span', { class: 'spacer' }),
      h('button', { type: 'button', text: isLog ? 'Copy log' : 'Copy pane', on: { click: () => this.copy(pane) } })];
    if (!isLog) {
      const target = encodeURIComponent(pane.key);
      tools.push(['txt', 'ansi'].map((format) => h('a', {
        class: 'button', download: '', text: `.${format}`,
        href: `${executionPath(this.executionId)}/output?format=${format}&target=${target}`,
        attrs: { 'aria-label': `Download ${pane.label} output as .${format}` },
        on: { click: (event) => { event.preventDefault(); this.save(format, pane.key); } },
      })));
    }
    const wrap = h('input', {
      type: 'checkbox', checked: true, attrs: { 'aria-keyshortcuts': 'W' },
      on: { change: () => { pane.element.dataset.wrap = wrap.checked ? 'on' : 'off'; } },
    });
    const times = h('input', { type: 'checkbox', attrs: { 'aria-keyshortcuts': 'T' }, on: { change: () => pane.showTimes(times.checked) } });
    this.toggles.set(pane.key, { wrap, times });
    tools.unshift(
      h('label', { class: 'check-option wrap-toggle' }, wrap, h('span', { text: 'Wrap lines' })),
      h('label', { class: 'check-option times-toggle' }, times, h('span', { text: 'Timestamps' })));
    return h('div', { class: 'pane-panel' },
      h('div', { class: 'pane-toolbar' }, isLog ? h('span', { class: 'muted', text: 'Bolt\'s own messages' }) : streamSwitch(pane), tools),
      pane.search.element,
      pane.element);
  }

  /** The shortcuts (SHORTCUTS), for the pane shown; typing in a field is left alone. */
  onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.target.closest('input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]')) return;
    const pane = this.panes.get(this.tabs.selected);
    if (!pane) return;
    const toggles = this.toggles.get(pane.key);
    const actions = {
      '/': () => pane.search.focus(),
      n: () => pane.search.go(1),
      N: () => pane.search.go(-1),
      t: () => toggles.times.click(),
      w: () => toggles.wrap.click(),
      f: () => pane.jumpToLive(),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  markTab(target, status) {
    const button = this.tabs.items.get(target)?.button;
    if (!button) return;
    button.dataset.result = status;
    button.querySelector('.tab-status').textContent = { success: ' ✓', no_result: ' –' }[status] ?? ' ✗';
    button.setAttribute('aria-label', `${target}: ${statusLabel(status)}`);
  }

  /** The server's copy of a pane: its search and its lines, numbered as the pane numbers them. */
  paneOnServer(key) {
    if (!key) return null; // output of no target: the API cannot name it
    const base = executionPath(this.executionId);
    const pane = key === LOG_PANE ? 'log=true' : `target=${encodeURIComponent(key)}`;
    return {
      search: (query, stream, before) => api(`${base}/search?${pane}&q=${encodeURIComponent(query)}&stream=${stream}&before=${before}&limit=${SERVER_MATCHES}`),
      lines: (from, count) => api(`${base}/lines?${pane}&from=${from}&count=${count}`),
    };
  }

  /** Pieces of one pane before `before`, paging back through the log until `lines` are found. */
  async fetchEarlier(key, before, lines) {
    let pieces = [];
    let found = 0;
    let cursor = before;
    // Start small (an output event holds up to 64 KiB, thousands of lines), grow while short.
    for (let limit = 4; ; limit = Math.min(limit * 4, MAX_EARLIER_EVENTS)) {
      const page = await api(`${executionPath(this.executionId)}/events?before=${cursor}&limit=${limit}`);
      const mine = page.events.flatMap((event) => timedPieces(event, this.expertMode)).filter((p) => p.pane === key);
      pieces = mine.concat(pieces);
      found += mine.reduce((n, piece) => n + (piece.seq < before - 1 ? countLines(piece.text) : 0), 0);
      if (page.events.length < limit || page.events[0].seq <= 1) return pieces; // the start of the log
      cursor = page.events[0].seq;
      if (found > lines) return pieces;
    }
  }

  // ---------------------------------------------------------------------------- actions

  async cancel() {
    const button = this.header.cancelButton;
    button.disabled = true;
    button.textContent = 'Cancelling…';
    try {
      const execution = await api(`${executionPath(this.executionId)}/cancel`, { method: 'POST' });
      this.header.showAlert('');
      if (!this.state.status || !FINAL_STATUSES.has(this.state.status)) this.header.showStatus(execution.status, execution.summary);
      // The Cancel button goes away once the run ends: keep the focus on the status it changed.
      this.header.element.querySelector('.exec-state').focus();
    } catch (error) {
      this.header.showAlert(`Could not cancel: ${error.message}`);
    } finally {
      button.disabled = false;
      button.textContent = 'Cancel';
    }
  }

  async rerun(scope) {
    try {
      const started = await api(`${executionPath(this.executionId)}/rerun`, { method: 'POST', body: { scope } });
      navigate(`/executions/${encodeURIComponent(started.executionId)}`);
    } catch (error) {
      this.header.showAlert(`Could not rerun: ${error.message}`);
      this.header.alert.focus();
    }
  }

  /** Copy one pane (a target's whole output from the server; the log as shown) or everything. */
  async copy(pane) {
    let text;
    if (pane?.key === LOG_PANE) {
      text = pane.text();
    } else {
      const target = pane ? `&target=${encodeURIComponent(pane.key)}` : '';
      try {
        text = await apiText(`${executionPath(this.executionId)}/output?format=txt${target}`);
      } catch {
        text = pane ? pane.text() : [...this.panes.values()].map((p) => p.text()).join('\n');
      }
    }
    const ok = await copyText(pane?.key === LOG_PANE ? text : this.reportHeader(pane?.key) + text);
    this.header.copyFeedback.textContent = ok ? `Copied ${countLines(text) || 1} line(s)` : 'Copy failed';
  }

  /** A report: the header (what ran, how it ended, the error lines) and the server's output text. */
  reportHeader(target = null) {
    const record = { ...this.record, ...this.state, status: this.state.status ?? this.record?.status };
    record.finishedAt = this.record?.finishedAt;
    record.startedAt = this.record?.startedAt;
    return reportHeader(record, { results: this.results, order: this.targetOrder(), errors: this.errors, target });
  }

  async save(format, target) {
    const suffix = target ? `&target=${encodeURIComponent(target)}` : '';
    try {
      const text = await apiText(`${executionPath(this.executionId)}/output?format=${format}${suffix}`);
      const name = `execution-${this.executionId}${target ? `-${target.replace(/[^A-Za-z0-9._-]/g, '_')}` : ''}.${format}`;
      downloadText(name, this.reportHeader(target) + text);
    } catch (error) {
      this.header.showAlert(`Could not download the output: ${error.message}`);
    }
  }
}

/** What each event type changes besides output (called with the viewer as `this`). */
const HANDLERS = {
  start(event, data) {
    this.order = data.expandedTargets ?? data.targets ?? [];
    this.pendingPanes = this.order.filter((target) => !this.panes.has(target));
  },
  command(event, data) {
    this.header.showCommandLine(data.argv);
  },
  status(event, data) {
    this.setStatus(data.status);
    if (data.status === 'running' && !this.state.startedAt) this.state.startedAt = Date.parse(event.timestamp);
  },
  progress(event, data) {
    if (event.target) this.progressBoard.update(event.target, data); // a target's phase
    else this.header.showProgress(data); // targets done of all
  },
  resources(event, data) {
    this.resourceView.add(event.target, data);
  },
  result(event, data) {
    this.progressBoard.finish(data.target ?? event.target, data.status);
    if (data.puppet) this.resourceView.summary(data.target ?? event.target, data.puppet);
    this.results.set(data.target ?? event.target, data);
    this.markTab(data.target ?? event.target, data.status);
    this.dirty.results = true;
  },
  error(event, data) {
    this.errors.push(errorText(data));
    this.header.showAlert(`Bolt reported: ${this.errors.join(' · ')}`);
  },
  complete(event, data) {
    Object.assign(this.state, { summary: data.summary, durationMs: data.durationMs, exitCode: data.exitCode });
    this.setStatus(data.status);
    this.dirty.summary = true; // the summary decides whether "rerun failed" makes sense
    this.header.showExitCode(data.exitCode);
    this.tick();
    this.refreshResults();
  },
};

/** An event's output pieces, each with the event's time (for the timestamps of its lines). */
function timedPieces(event, expertMode) {
  const pieces = piecesOf(event, expertMode);
  for (const piece of pieces) piece.time = event.timestamp;
  return pieces;
}

/** The list of keyboard shortcuts, folded away under the Output heading. */
function shortcutHelp() {
  return h('details', { class: 'shortcut-help' },
    h('summary', { text: 'Keyboard shortcuts' }),
    h('p', { class: 'hint', text: 'With the focus in the output (click it, or Tab to it):' }),
    h('dl', {}, SHORTCUTS.map(([keys, what]) => [h('dt', {}, h('kbd', { text: keys })), h('dd', { text: what })])));
}

/** Radio buttons choosing what a target pane shows: stdout and stderr merged, or one of them. */
function streamSwitch(pane) {
  const name = `show-${Math.random().toString(36).slice(2)}`;
  const option = (value, label) => h('label', { class: 'segmented-option' },
    h('input', { type: 'radio', name, value, checked: value === 'all', on: { change: () => pane.show(value) } }),
    h('span', { text: label }));
  return h('fieldset', { class: 'segmented' },
    h('legend', { class: 'visually-hidden', text: `Streams shown for ${pane.label}` }),
    option('all', 'stdout + stderr'), option('stdout', 'stdout'), option('stderr', 'stderr'));
}
