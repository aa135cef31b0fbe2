// Search in one output pane: every line the pane keeps, rendered or not, and new lines as they
// arrive. Matches are whole lines, in order; going to one brings it on the page (output-pane.js)
// and marks it. Lines older than the pane keeps (session `keptLines`) are only in the event log:
// the server searches those (GET /api/executions/<id>/search), numbering them as the pane does.

import { runNode } from './ansi.js';
import { h, uid } from './dom.js';

/** A pattern for a plain-text, case-insensitive search (null for an empty query). */
export function searchPattern(query) {
  if (!query) return null;
  return new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu');
}

/** Text of a line record, cached until its content changes (the pane clears `text` then). */
export function lineText(record) {
  record.text ??= record.runs.length === 1 ? record.runs[0].text : record.runs.map((run) => run.text).join('');
  return record.text;
}

/** Nodes of a line with each match of `pattern` in a <mark>; null when nothing matches. */
export function markedNodes(runs, text, pattern) {
  const ranges = [...text.matchAll(pattern)].filter((m) => m[0]).map((m) => [m.index, m.index + m[0].length]);
  if (!ranges.length) return null;
  const nodes = [];
  let start = 0;
  for (const run of runs) {
    const end = start + run.text.length;
    let at = start;
    for (const [from, to] of ranges) {
      if (to <= at || from >= end) continue;
      if (from > at) nodes.push(runNode({ text: text.slice(at, from), style: run.style }));
      const cut = Math.min(to, end);
      nodes.push(h('mark', {}, runNode({ text: text.slice(Math.max(from, at), cut), style: run.style })));
      at = cut;
    }
    if (at < end) nodes.push(runNode({ text: text.slice(at, end), style: run.style }));
    start = end;
  }
  return nodes;
}

/** The time of day of an event timestamp, to the millisecond, in the browser's time zone. */
export function timeOfDay(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '--:--:--.---';
  const two = (n) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export const SERVER_MATCHES = 10000; // matches among forgotten lines the server lists (the last ones)
const NO_EARLIER = Object.freeze({ ns: [], count: 0, below: 0 });

/** Index of the first number in `sorted` (ascending) that is at least `n`. */
function lowerBound(sorted, n) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid] < n) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The search bar of a pane and its matches (line numbers, ascending): those the server found
 * among the lines the pane no longer keeps (`earlier`), then those in the lines it keeps (`local`).
 */
export class PaneSearch {
  constructor(pane) {
    this.pane = pane;
    this.query = '';
    this.pattern = null; // global, for marking every match of a line
    this.test = null; // the same, for testing a line
    this.local = [];
    this.earlier = NO_EARLIER; // {ns, count, below}: the server's matches among lines numbered below `below`
    this.asking = null; // the server search under way (a promise), if any
    this.problem = ''; // why the server search failed
    this.current = null; // number of the line gone to, null before the first
    this.buildDom();
  }

  get matches() {
    return this.earlier.ns.length ? this.earlier.ns.concat(this.local) : this.local;
  }

  buildDom() {
    const id = uid('search');
    this.input = h('input', {
      type: 'search', id, placeholder: 'text in the output', autocomplete: 'off',
      attrs: { 'aria-keyshortcuts': '/' },
      on: { input: () => this.setQuery(this.input.value), keydown: (event) => this.onKey(event) },
    });
    this.count = h('span', { class: 'search-count', attrs: { role: 'status' } });
    const button = (text, label, keys, step) => h('button', {
      type: 'button', text, attrs: { 'aria-label': label, 'aria-keyshortcuts': keys }, on: { click: () => this.go(step) },
    });
    this.element = h('div', { class: 'pane-search', attrs: { role: 'search', 'aria-label': `Search ${this.pane.label}` } },
      h('label', { htmlFor: id, text: 'Search output' }), this.input,
      button('↑', 'Previous match', 'Shift+N', -1), button('↓', 'Next match', 'N', 1), this.count);
  }

  onKey(event) {
    if (event.key === 'Enter') {
      event.preventDefault();
      this.go(event.shiftKey ? -1 : 1);
    } else if (event.key === 'Escape') {
      this.input.value = '';
      this.setQuery('');
      this.pane.scroller.focus({ preventScroll: true });
    }
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  setQuery(query) {
    this.query = query;
    this.pattern = searchPattern(query);
    this.test = this.pattern && new RegExp(this.pattern.source, 'iu');
    this.pane.view.pattern = this.pattern;
    this.pane.markCurrent(null);
    this.current = null;
    this.local = [];
    this.earlier = NO_EARLIER;
    this.problem = '';
    this.scan(this.pane.forgotten);
    this.askServer();
    this.pane.redraw();
  }

  /** Lines from number `from` on are new or changed: find their matches again. */
  update(from) {
    if (!this.pattern) return;
    const keepBelow = Math.max(from, this.pane.forgotten);
    this.local = this.local.slice(lowerBound(this.local, this.pane.forgotten), lowerBound(this.local, keepBelow));
    this.scan(keepBelow);
    if (this.pane.forgotten > this.earlier.below) this.askServer(); // lines went out of memory: the server has them
  }

  scan(from) {
    const { kept, forgotten } = this.pane;
    if (this.test) {
      for (let i = Math.max(0, from - forgotten); i < kept.length; i += 1) {
        const record = kept[i];
        if (this.pane.shows(record) && this.test.test(lineText(record))) this.local.push(record.n);
      }
    }
    this.showCount();
  }

  /** Ask the server for the matches among the lines the pane no longer keeps (one request at a time). */
  askServer() {
    if (!this.pattern || !this.pane.forgotten || this.asking || !this.pane.server) return;
    const { query } = this;
    const below = this.pane.forgotten;
    const stream = this.pane.element.dataset.show;
    this.asking = this.pane.server.search(query, stream, below).then(
      (answer) => {
        if (query !== this.query || stream !== this.pane.element.dataset.show) return;
        this.earlier = { ns: answer.matches.map((match) => match.n), count: answer.count, below };
        this.problem = '';
      },
      (error) => { if (query === this.query) this.problem = error.message; },
    ).finally(() => {
      this.asking = null;
      if (query !== this.query || (!this.problem && this.pane.forgotten > this.earlier.below)) this.askServer();
      this.showCount();
    });
    this.showCount();
  }

  /** Go to the next (`step` 1) or previous (-1) matching line, round the end. */
  go(step) {
    const all = this.matches;
    if (!all.length) return;
    let at;
    if (this.current === null) {
      at = this.firstFrom(all, step);
    } else {
      const near = lowerBound(all, this.current);
      if (all[near] === this.current) at = (near + step + all.length) % all.length;
      else at = step > 0 ? near % all.length : (near - 1 + all.length) % all.length;
    }
    this.current = all[at];
    this.showCount();
    this.pane.reveal(this.current).catch((error) => {
      this.problem = `could not fetch the line: ${error.message}`;
      this.showCount();
    });
  }

  /** Where the first step goes: the first match from the top of the view on, or the last before it. */
  firstFrom(all, step) {
    const after = lowerBound(all, this.pane.topLine());
    return step > 0 ? after % all.length : (after - 1 + all.length) % all.length;
  }

  showCount() {
    const all = this.matches;
    const unlisted = this.earlier.count - this.earlier.ns.length; // older matches than the server listed
    const count = all.length + unlisted;
    let text = '';
    if (this.pattern) {
      const near = this.current === null ? -1 : lowerBound(all, this.current);
      const place = near !== -1 && all[near] === this.current ? `${(unlisted + near + 1).toLocaleString()} of ` : '';
      text = count ? `${place}${count.toLocaleString()} matching line${count === 1 ? '' : 's'}` : 'No matches';
      if (unlisted > 0) text += ` (the first ${unlisted.toLocaleString()} not listed)`;
      if (this.asking) text += ' (searching earlier lines…)';
      else if (this.problem) text += ` (earlier lines not searched: ${this.problem})`;
      else if (this.pane.forgotten && !this.pane.server) text += ` (in the last ${this.pane.kept.length.toLocaleString()} lines)`;
    }
    if (this.count.textContent !== text) this.count.textContent = text;
  }
}
