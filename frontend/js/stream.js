// The stream client: follow one execution's event log, live over SSE, resuming after a drop
// without losing or repeating an event, and polling when EventSource is missing or keeps failing.

import { api, executionPath } from './api.js';

export const EVENT_TYPES = [
  'start', 'command', 'stdout', 'stderr', 'log', 'progress', 'resources', 'result', 'status', 'error', 'complete',
  'step', 'stepResult', 'message', 'planResult', // a Bolt plan's steps, messages and return value
];

/** Connection states shown to the user. */
export const STATE_LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Polling',
  finished: 'Finished',
  failed: 'Disconnected',
};

const POLL_PAGE = 1000;

/**
 * Follow an execution from `after` (the last seq already shown).
 * `onEvents(events)` gets each new event exactly once, in seq order;
 * `onState(state)` gets the connection state (a key of STATE_LABELS).
 */
export class ExecutionStream {
  constructor(executionId, { onEvents, onState, after = 0, maxFailures = 3, pollIntervalMs = 1000 } = {}) {
    this.executionId = executionId;
    this.onEvents = onEvents ?? (() => {});
    this.onState = onState ?? (() => {});
    this.lastSeq = after; // highest seq handed to onEvents: anything at or below it is a repeat
    this.maxFailures = maxFailures;
    this.pollIntervalMs = pollIntervalMs;
    this.failures = 0; // connection errors since the last event arrived
    this.source = null;
    this.state = null;
    this.closed = false;
    this.timer = null;
    this.abort = null;
  }

  start() {
    if (typeof window.EventSource === 'function') this.connect();
    else this.poll();
    return this;
  }

  /** Stop following: close the EventSource, stop polling, forget timers. */
  close() {
    this.closed = true;
    this.closeSource();
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  // ---------------------------------------------------------------------------- SSE

  connect() {
    if (this.closed) return;
    this.setState(this.failures ? 'reconnecting' : 'connecting');
    // A new EventSource sends no Last-Event-ID, so say where to resume in the URL. The
    // browser's own reconnects of this source send Last-Event-ID, which the server prefers.
    const source = new EventSource(`${executionPath(this.executionId)}/stream?after=${this.lastSeq}`);
    this.source = source;
    source.addEventListener('open', () => {
      if (source === this.source) this.setState('live');
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => this.onMessage(source, message));
    }
  }

  onMessage(source, message) {
    if (source !== this.source || this.closed) return;
    // An `event: error` frame is a MessageEvent; a broken connection is a plain Event.
    if (!(message instanceof MessageEvent)) {
      this.onConnectionError(source);
      return;
    }
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not an event of ours; nothing to show
    }
    this.failures = 0;
    if (this.state !== 'live') this.setState('live');
    this.accept([event]);
  }

  onConnectionError(source) {
    this.failures += 1;
    if (this.failures >= this.maxFailures) {
      this.closeSource();
      this.poll();
    } else if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error, or the source was closed): retry ourselves.
      this.closeSource();
      this.setState('reconnecting');
      this.timer = setTimeout(() => this.connect(), this.backoffMs());
    } else {
      this.setState('reconnecting'); // the browser retries on its own, with Last-Event-ID
    }
  }

  closeSource() {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  backoffMs() {
    return Math.min(5000, 250 * 2 ** (this.failures - 1));
  }

  // ---------------------------------------------------------------------------- polling

  async poll() {
    this.setState('polling');
    let cursor = this.lastSeq;
    let errors = 0;
    while (!this.closed) {
      this.abort = new AbortController();
      let page;
      try {
        page = await api(`${executionPath(this.executionId)}/events?after=${cursor}&limit=${POLL_PAGE}`, {
          signal: this.abort.signal,
        });
        errors = 0;
      } catch (error) {
        if (this.closed) return;
        if (error.status && error.status < 500 && error.status !== 429) {
          this.setState('failed');
          return;
        }
        errors += 1;
        await this.sleep(Math.min(10000, this.pollIntervalMs * 2 ** errors));
        continue;
      }
      if (this.closed) return;
      this.accept(page.events);
      cursor = Math.max(cursor, page.nextAfter, this.lastSeq);
      if (page.complete) {
        this.finish();
        return;
      }
      if (page.events.length < POLL_PAGE) await this.sleep(this.pollIntervalMs);
    }
  }

  sleep(ms) {
    return new Promise((resolve) => {
      this.timer = setTimeout(resolve, ms);
    });
  }

  // ---------------------------------------------------------------------------- delivery

  /** Hand on events newer than lastSeq; end on `complete`. */
  accept(events) {
    const fresh = [];
    for (const event of events) {
      if (typeof event?.seq !== 'number' || event.seq <= this.lastSeq) continue; // a repeat after a resume
      this.lastSeq = event.seq;
      fresh.push(event);
    }
    if (fresh.length) this.onEvents(fresh);
    if (fresh.some((event) => event.type === 'complete')) this.finish();
  }

  finish() {
    this.closeSource(); // or the browser would reconnect when the server ends the stream
    this.closed = true;
    clearTimeout(this.timer);
    this.setState('finished');
  }
}

/**
 * Follow one execution for a component that shows part of it: each event goes to
 * `handlers[event.type]`, called with `owner` as `this`. Returns the started stream (close it).
 */
export function followExecution(executionId, handlers, owner) {
  return new ExecutionStream(executionId, {
    onEvents: (events) => { for (const event of events) handlers[event.type]?.call(owner, event, event.data ?? {}); },
  }).start();
}
