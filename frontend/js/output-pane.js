// One scrolling pane of output lines (a target's stdout and stderr, or Bolt's log).
// It renders only the tail (a bounded number of lines), follows new output unless the user
// scrolled up, and pages back through the event log on request ("load earlier output").

import { PLAIN, runNode } from './ansi.js';
import { h } from './dom.js';
import { LineBuilder } from './lines.js';

export const TAIL_LINES = 3000; // lines kept while following live output
export const MAX_LINES = 20000; // hard ceiling, also while the user reads older output
export const EARLIER_PAGE_LINES = 1000; // lines one "load earlier output" adds
const BLOCK_LINES = 100; // lines per layout block
const STREAM_CLASS = { stdout: 'ln-out', stderr: 'ln-err' };

/**
 * Numbers display lines: each records the event (`seq`) it started in and its index there
 * (`idx`), which is how a pane knows where to resume when it pages back. Keeps one open line
 * per stream, so stdout and stderr interleave by line, in arrival order.
 */
export class LineAssembler {
  constructor({ added, changed = () => {} }) {
    this.added = added; // (record) => void, for each new line
    this.changed = changed; // (record) => void, when an earlier line's content changed
    this.builders = new Map();
    this.openLines = new Map(); // stream -> the record of its unfinished line
    this.index = { seq: null, next: 0 };
  }

  /** Add a piece of output `{seq, stream, text, final}` (pieces come in seq order). */
  add(piece) {
    const builder = this.builder(piece.stream);
    for (const line of builder.feed(piece.text)) this.place(piece, line);
    if (piece.final) for (const line of builder.finish()) this.place(piece, line);
  }

  builder(stream) {
    let builder = this.builders.get(stream);
    if (!builder) {
      builder = new LineBuilder();
      this.builders.set(stream, builder);
    }
    return builder;
  }

  place(piece, line) {
    const open = this.openLines.get(piece.stream);
    let record = open;
    if (line.continues && open) {
      record.runs = line.runs;
      this.changed(record);
    } else {
      record = { seq: piece.seq, idx: this.nextIndex(piece.seq), stream: piece.stream, runs: line.runs, el: null };
      this.added(record);
    }
    this.openLines.set(piece.stream, line.complete ? null : record);
  }

  nextIndex(seq) {
    if (this.index.seq !== seq) this.index = { seq, next: 0 };
    const idx = this.index.next;
    this.index.next += 1;
    return idx;
  }
}

/** One pane of output lines; see the top of this module. */
export class OutputPane {
  constructor({ key, label, loadEarlier }) {
    this.key = key;
    this.label = label;
    this.fetchEarlier = loadEarlier; // async (beforeSeq, lines) => {pieces, reachedStart}
    this.lines = []; // rendered records {seq, idx, stream, runs, el}
    this.pending = []; // records not rendered yet
    this.dirty = new Set(); // rendered records whose content changed
    this.assembler = new LineAssembler({
      added: (record) => this.pending.push(record),
      changed: (record) => { if (record.el) this.dirty.add(record); },
    });
    this.hidden = 0; // lines dropped from the top (they can be loaded again)
    this.following = true;
    this.cap = TAIL_LINES;
    this.loading = false;
    this.buildDom();
  }

  buildDom() {
    this.earlierButton = h('button', {
      type: 'button', class: 'load-earlier', hidden: true, on: { click: () => this.loadEarlier() },
    });
    this.body = h('div', { class: 'lines' });
    this.scroller = h('div', {
      class: 'output-scroll',
      tabIndex: 0,
      attrs: { role: 'log', 'aria-label': `Output: ${this.label}`, 'aria-live': 'off' },
      on: {
        scroll: () => this.onScroll(),
        // Stop following at once when the user scrolls up, before the next frame pulls it down.
        wheel: (event) => { if (event.deltaY < 0) this.pause(); },
        keydown: (event) => { if (['ArrowUp', 'PageUp', 'Home'].includes(event.key)) this.pause(); },
      },
    }, this.earlierButton, this.body);
    this.liveButton = h('button', {
      type: 'button', class: 'jump-live', hidden: true, text: 'Jump to live ↓', on: { click: () => this.jumpToLive() },
    });
    this.element = h('div', { class: 'output-pane', dataset: { show: 'all' } }, this.scroller, this.liveButton);
  }

  /** Add a piece of output; it shows at the next render(). */
  add(piece) {
    this.assembler.add(piece);
  }

  /** Put pending lines on the page, drop the oldest beyond the cap; call once per frame. */
  render() {
    for (const record of this.dirty) if (record.el) fillLine(record);
    this.dirty.clear();
    if (this.pending.length) {
      this.cap = this.following ? TAIL_LINES : Math.min(MAX_LINES, Math.max(this.cap, this.lines.length + this.pending.length));
      this.appendPending();
    } else if (this.following && this.lines.length > TAIL_LINES) {
      this.cap = TAIL_LINES;
      this.dropOldest(this.lines.length - TAIL_LINES);
    }
    this.updateControls();
    if (this.following) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  appendPending() {
    let skip = Math.max(0, this.lines.length + this.pending.length - this.cap);
    const fromRendered = Math.min(skip, this.lines.length);
    this.dropOldest(fromRendered);
    skip -= fromRendered;
    this.hidden += skip; // never rendered: too many lines arrived at once
    const fresh = this.pending.slice(skip);
    this.pending = [];
    const block = this.body.lastElementChild;
    let at = 0;
    if (block && block.childElementCount < BLOCK_LINES) {
      at = BLOCK_LINES - block.childElementCount;
      block.append(...fresh.slice(0, at).map(createLine));
    }
    this.body.append(...blocksOf(fresh.slice(at)));
    this.lines.push(...fresh);
  }

  dropOldest(count) {
    if (count <= 0) return;
    const dropped = this.lines.splice(0, count);
    this.hidden += count;
    if (!this.lines.length) {
      this.body.replaceChildren(); // one operation instead of thousands of removals
    } else {
      // Whole blocks go at once; only the block where the cut falls loses single lines.
      const keepFrom = this.lines[0].el.parentElement;
      while (this.body.firstElementChild !== keepFrom) this.body.firstElementChild.remove();
      for (const record of dropped) if (record.el?.parentElement === keepFrom) record.el.remove();
    }
    for (const record of dropped) record.el = null;
  }

  updateControls() {
    this.earlierButton.hidden = this.hidden === 0;
    if (!this.loading) {
      const n = this.hidden;
      this.earlierButton.textContent = `Load earlier output (${n.toLocaleString()} line${n === 1 ? '' : 's'} hidden)`;
    }
    this.liveButton.hidden = this.following;
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    const atBottom = scrollHeight - scrollTop - clientHeight < 8;
    if (atBottom !== this.following) {
      this.following = atBottom;
      this.updateControls();
    }
  }

  pause() {
    if (!this.following) return;
    this.following = false;
    this.updateControls();
  }

  /** Call when the pane becomes visible again: a hidden pane cannot scroll. */
  shown() {
    if (this.following) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  jumpToLive() {
    this.following = true;
    this.render();
    this.scroller.focus({ preventScroll: true });
  }

  /** Page back: fetch the lines before the first rendered one and put them on top. */
  async loadEarlier() {
    const first = this.lines[0];
    if (!first || this.loading) return;
    this.loading = true;
    this.earlierButton.disabled = true;
    this.earlierButton.textContent = 'Loading earlier output…';
    try {
      const { pieces, reachedStart } = await this.fetchEarlier(first.seq + 1, EARLIER_PAGE_LINES);
      const earlier = linesBefore(pieces, first);
      const records = earlier.slice(-EARLIER_PAGE_LINES);
      this.prepend(records);
      const everything = reachedStart && earlier.length === records.length;
      this.hidden = everything ? 0 : Math.max(1, this.hidden - records.length);
    } catch (error) {
      this.earlierButton.textContent = `Could not load earlier output (${error.message}); try again`;
      return;
    } finally {
      this.loading = false;
      this.earlierButton.disabled = false;
    }
    this.updateControls();
  }

  prepend(records) {
    if (!records.length) return;
    const before = this.scroller.scrollHeight;
    this.body.prepend(...blocksOf(records));
    this.lines.unshift(...records);
    this.following = false; // the user is reading older output: stop pulling the view down
    this.cap = Math.min(MAX_LINES, Math.max(this.cap, this.lines.length));
    this.scroller.scrollTop += this.scroller.scrollHeight - before;
  }

  /** Which streams to show: all (merged in order), stdout or stderr. */
  show(which) {
    this.element.dataset.show = which;
  }

  /** Text of the rendered lines. */
  text() {
    return this.lines.map((record) => record.runs.map((run) => run.text).join('')).join('\n');
  }
}

/** Lines of earlier pieces that come before `first`, numbered as the live pane numbered them. */
function linesBefore(pieces, first) {
  const records = [];
  const assembler = new LineAssembler({ added: (record) => records.push(record) });
  for (const piece of pieces) assembler.add(piece);
  return records.filter((r) => r.seq < first.seq || (r.seq === first.seq && r.idx < first.idx));
}

/** Lines grouped in blocks: the browser skips layout of blocks out of view (content-visibility). */
function blocksOf(records) {
  const blocks = [];
  for (let i = 0; i < records.length; i += BLOCK_LINES) {
    const block = document.createElement('div');
    block.className = 'block';
    block.append(...records.slice(i, i + BLOCK_LINES).map(createLine));
    blocks.push(block);
  }
  return blocks;
}

function createLine(record) {
  record.el = document.createElement('div');
  record.el.className = `ln ${STREAM_CLASS[record.stream] ?? 'ln-out'}`;
  fillLine(record);
  return record.el;
}

function fillLine(record) {
  const { el, runs } = record;
  if (runs.length === 1 && runs[0].style === PLAIN) el.textContent = runs[0].text; // the common case, cheapest
  else el.replaceChildren(...runs.map(runNode));
}
