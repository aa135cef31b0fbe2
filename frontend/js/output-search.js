// Search in one output pane: every line the pane keeps, rendered or not, and new lines as they
// arrive. Matches are whole lines, in order; going to one brings it on the page (output-pane.js)
// and marks it. Lines older than the pane keeps (KEPT_LINES) are only in the event log: finding
// those would take a search on the server, which does not exist yet.

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

/** The search bar of a pane and its matches (line numbers, ascending). */
export class PaneSearch {
  constructor(pane) {
    this.pane = pane;
    this.pattern = null; // global, for marking every match of a line
    this.test = null; // the same, for testing a line
    this.matches = [];
    this.at = -1; // index in matches of the line gone to, -1 before the first
    this.buildDom();
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
    this.pattern = searchPattern(query);
    this.test = this.pattern && new RegExp(this.pattern.source, 'iu');
    this.pane.view.pattern = this.pattern;
    this.pane.markCurrent(null);
    this.at = -1;
    this.matches = [];
    this.scan(this.pane.forgotten);
    this.pane.redraw();
  }

  /** Lines from number `from` on are new or changed: find their matches again. */
  update(from) {
    if (!this.pattern) return;
    const keepBelow = Math.max(from, this.pane.forgotten);
    let cut = this.matches.length;
    while (cut > 0 && this.matches[cut - 1] >= keepBelow) cut -= 1;
    let drop = 0;
    while (drop < cut && this.matches[drop] < this.pane.forgotten) drop += 1;
    this.matches = this.matches.slice(drop, cut);
    this.at = Math.min(this.at - drop, this.matches.length - 1);
    this.scan(keepBelow);
  }

  scan(from) {
    const { kept, forgotten } = this.pane;
    if (this.test) {
      for (let i = Math.max(0, from - forgotten); i < kept.length; i += 1) {
        const record = kept[i];
        if (this.pane.shows(record) && this.test.test(lineText(record))) this.matches.push(record.n);
      }
    }
    this.showCount();
  }

  /** Go to the next (`step` 1) or previous (-1) matching line, round the end. */
  go(step) {
    const count = this.matches.length;
    if (!count) return;
    this.at = this.at < 0 ? this.firstFrom(step) : (this.at + step + count) % count;
    this.pane.reveal(this.matches[this.at]);
    this.showCount();
  }

  /** Where the first step goes: the first match from the top of the view on, or the last before it. */
  firstFrom(step) {
    const count = this.matches.length;
    let after = this.matches.findIndex((n) => n >= this.pane.topLine());
    if (after === -1) after = count;
    return step > 0 ? after % count : (after - 1 + count) % count;
  }

  showCount() {
    const count = this.matches.length;
    let text = '';
    if (this.pattern) text = count ? `${this.at < 0 ? '' : `${(this.at + 1).toLocaleString()} of `}${count.toLocaleString()} matching line${count === 1 ? '' : 's'}` : 'No matches';
    if (this.pattern && this.pane.forgotten) text += ` (in the last ${this.pane.kept.length.toLocaleString()} lines)`;
    if (this.count.textContent !== text) this.count.textContent = text;
  }
}

