// One scrolling pane of output lines (a target's stdout and stderr, or Bolt's log).
// It keeps the newest lines in memory, numbered from the run's first line, but renders only a
// window of them: the tail while following live output (unless the user scrolled up), or the
// part the user went to (a search match). Earlier pages come back from the event log on request
// ("load earlier output"). Lines older than the pane keeps are searched and fetched on the server,
// which numbers them as this module does (GET /api/executions/<id>/search and /lines).

import { PLAIN, runNode } from './ansi.js';
import { h } from './dom.js';
import { LineBuilder } from './lines.js';
import { lineText, markedNodes, PaneSearch, timeOfDay } from './output-search.js';
import { session } from './session.js';

export const TAIL_LINES = 3000; // lines rendered while following live output
export const MAX_LINES = 20000; // hard ceiling, also while the user reads older output
export const EARLIER_PAGE_LINES = 1000; // lines one "load earlier output" adds
export const KEPT_LINES = 200000; // lines kept in memory (for search), rendered or not; the server may say (session `keptLines`)
const WINDOW_LINES = 1000; // lines rendered around a line gone to that was not on the page
const BLOCK_LINES = 100; // lines per layout block
const STREAM_CLASS = { stdout: 'ln-out', stderr: 'ln-err' };

/**
 * Numbers display lines: each records the event (`seq`) it started in and its index there
 * (`idx`), which is how a pane knows where to resume when it pages back, and the time of that
 * event. Keeps one open line per stream, so stdout and stderr interleave by line, in arrival order.
 */
export class LineAssembler {
  constructor({ added, changed = () => {} }) {
    this.added = added; // (record) => void, for each new line
    this.changed = changed; // (record) => void, when an earlier line's content changed
    this.builders = new Map();
    this.openLines = new Map(); // stream -> the record of its unfinished line
    this.index = { seq: null, next: 0 };
  }

  /** Add a piece of output `{seq, stream, text, final, time}` (pieces come in seq order). */
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
      const idx = this.nextIndex(piece.seq);
      record = { seq: piece.seq, idx, stream: piece.stream, runs: line.runs, time: piece.time, el: null };
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
  constructor({ key, label, loadEarlier, server }) {
    this.key = key;
    this.label = label;
    this.fetchEarlier = loadEarlier; // async (beforeSeq, lines) => pieces of the lines before
    this.server = server; // {search(query, stream, before), lines(from, count)}: the server's copy of the pane
    this.keptLimit = session()?.keptLines ?? KEPT_LINES;
    this.kept = []; // the newest lines {n, seq, idx, stream, runs, time, el}, n counting from 0
    this.forgotten = 0; // lines before kept[0]: only the event log has them
    this.lines = []; // rendered records: consecutive lines, from kept or paged back
    this.end = 0; // number of the line after the last rendered one
    this.detached = false; // the rendered lines stop short of the newest (after going to a line)
    this.dirty = new Set(); // rendered records whose content changed
    this.changedFrom = Infinity; // lowest number of a line added or changed since the last render
    this.view = { pattern: null, times: false, current: null }; // how lines are drawn
    this.assembler = new LineAssembler({ added: (record) => this.keep(record), changed: (record) => this.change(record) });
    this.following = true;
    this.pinnedTop = 0; // where following last put the view (see onScroll)
    this.cap = TAIL_LINES;
    this.loading = false;
    this.buildDom();
    this.search = new PaneSearch(this);
  }

  buildDom() {
    this.earlierButton = h('button', {
      type: 'button', class: 'load-earlier', hidden: true, on: { click: () => this.loadEarlier() },
    });
    this.laterButton = h('button', {
      type: 'button', class: 'load-later', hidden: true, on: { click: () => this.showLater() },
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
    }, this.earlierButton, this.body, this.laterButton);
    this.liveButton = h('button', {
      type: 'button', class: 'jump-live', hidden: true, text: 'Jump to live ↓',
      attrs: { 'aria-keyshortcuts': 'F' }, on: { click: () => this.jumpToLive() },
    });
    this.element = h('div', { class: 'output-pane', dataset: { show: 'all' } }, this.scroller, this.liveButton);
    // Blocks are laid out a frame after they come into view (content-visibility), and may then
    // be taller than their estimate: keep the end in view while following.
    new ResizeObserver(() => { if (this.following) this.toBottom(); }).observe(this.body);
  }

  /** Add a piece of output; it shows at the next render(). */
  add(piece) {
    this.assembler.add(piece);
  }

  keep(record) {
    record.n = this.forgotten + this.kept.length;
    this.kept.push(record);
    this.changedFrom = Math.min(this.changedFrom, record.n);
    // Forget in batches: one splice per tenth of the limit, not one per line.
    if (this.kept.length > this.keptLimit * 1.1) {
      const excess = this.kept.length - this.keptLimit;
      this.kept.splice(0, excess);
      this.forgotten += excess;
    }
  }

  change(record) {
    record.text = undefined;
    if (record.el) this.dirty.add(record);
    this.changedFrom = Math.min(this.changedFrom, record.n);
  }

  get total() {
    return this.forgotten + this.kept.length;
  }

  /** Put new lines on the page, drop the oldest beyond the cap; call once per frame. */
  render() {
    for (const record of this.dirty) if (record.el) this.fill(record);
    this.dirty.clear();
    if (!this.detached && this.end < this.total) {
      this.appendNew();
    } else if (this.following && this.lines.length > TAIL_LINES) {
      this.cap = TAIL_LINES;
      this.dropOldest(this.lines.length - TAIL_LINES);
    }
    if (this.changedFrom !== Infinity) this.search.update(this.changedFrom);
    this.changedFrom = Infinity;
    this.updateControls();
    if (this.following) this.toBottom();
  }

  appendNew() {
    const total = this.total;
    this.cap = this.following ? TAIL_LINES : Math.min(MAX_LINES, Math.max(this.cap, this.lines.length + total - this.end));
    // Lines beyond the cap are never rendered (too many arrived at once); a gap drops all rendered ones.
    const from = Math.max(this.end, total - this.cap, this.forgotten);
    this.dropOldest(from > this.end ? this.lines.length : this.lines.length + total - from - this.cap);
    const fresh = this.kept.slice(from - this.forgotten);
    const block = this.body.lastElementChild;
    let at = 0;
    if (this.lines.length && block && block.childElementCount < BLOCK_LINES) {
      at = BLOCK_LINES - block.childElementCount;
      block.append(...fresh.slice(0, at).map((record) => this.createLine(record)));
    }
    this.body.append(...this.blocksOf(fresh.slice(at)));
    this.lines.push(...fresh);
    this.end = total;
  }

  dropOldest(count) {
    if (count <= 0) return;
    const dropped = this.lines.splice(0, count);
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

  /** Render `records` (consecutive lines) instead of what is on the page. */
  replaceLines(records) {
    for (const record of this.lines) record.el = null;
    this.body.replaceChildren(...this.blocksOf(records));
    this.lines = records;
    this.end = records.length ? records[records.length - 1].n + 1 : this.total;
    this.detached = this.end < this.total;
    this.cap = Math.max(this.cap, records.length);
  }

  /** Lines above the rendered ones (paged back from the event log on request). */
  get hiddenAbove() {
    return this.lines.length ? this.lines[0].n : this.end;
  }

  updateControls() {
    const above = this.hiddenAbove;
    this.earlierButton.hidden = above === 0;
    if (!this.loading) this.earlierButton.textContent = `Load earlier output (${countOf(above)} hidden)`;
    this.laterButton.hidden = !this.detached;
    if (this.detached) this.laterButton.textContent = `Show later output (${countOf(this.total - this.end)})`;
    this.liveButton.hidden = this.following;
  }

  /** Scroll to the end, and remember where that put the view. */
  toBottom() {
    // A hidden pane cannot scroll, and measuring it forced a layout per pane and frame (200
    // targets finishing together blocked the page for 300 ms): `shown()` scrolls it later.
    if (this.scroller.closest('[hidden]')) return;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.pinnedTop = this.scroller.scrollTop;
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    const atBottom = !this.detached && scrollHeight - scrollTop - clientHeight < 8;
    // Only a move up from where following put the view is the user scrolling away (scrollbar,
    // touch; wheel and keys pause at once). Blocks laid out after that scroll can leave the end
    // below the view: that is no reason to stop following, it was what stopped it under load.
    const following = atBottom || (this.following && scrollTop >= this.pinnedTop);
    if (following !== this.following) {
      this.following = following;
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
    if (this.following) this.toBottom();
  }

  jumpToLive() {
    if (this.detached) this.replaceLines(this.kept.slice(-TAIL_LINES));
    this.following = true;
    this.render();
    this.scroller.focus({ preventScroll: true });
  }

  /** Below a window the user went to: add the next page of lines (up to the live end). */
  async showLater() {
    const from = this.end - this.forgotten;
    let later;
    if (from >= 0) {
      later = this.kept.slice(from, from + EARLIER_PAGE_LINES);
    } else { // the window is older than the kept lines: the next page comes from the server
      const end = this.end;
      this.laterButton.disabled = true;
      try {
        later = await this.serverLines(end, Math.min(EARLIER_PAGE_LINES, this.forgotten - end));
      } catch (error) {
        this.laterButton.textContent = `Could not load later output (${error.message}); try again`;
        return;
      } finally {
        this.laterButton.disabled = false;
      }
      if (this.end !== end) return; // the window changed meanwhile
    }
    this.body.append(...this.blocksOf(later));
    this.lines.push(...later);
    this.end += later.length;
    this.detached = this.end < this.total;
    this.cap = Math.min(MAX_LINES, Math.max(this.cap, this.lines.length));
    this.updateControls();
  }

  /** Page back: fetch the lines before the first rendered one and put them on top. */
  async loadEarlier() {
    const first = this.lines[0];
    if (!first || this.loading) return;
    this.loading = true;
    this.earlierButton.disabled = true;
    this.earlierButton.textContent = 'Loading earlier output…';
    try {
      const pieces = await this.fetchEarlier(first.seq + 1, EARLIER_PAGE_LINES);
      const records = linesBefore(pieces, first).slice(-EARLIER_PAGE_LINES);
      records.forEach((record, i) => { record.n = Math.max(0, first.n - records.length + i); });
      this.prepend(records);
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
    this.body.prepend(...this.blocksOf(records));
    this.lines.unshift(...records);
    this.following = false; // the user is reading older output: stop pulling the view down
    this.cap = Math.min(MAX_LINES, Math.max(this.cap, this.lines.length));
    this.scroller.scrollTop += this.scroller.scrollHeight - before;
  }

  /** Bring line `n` on the page (a window around it, if it was not there) and mark it. */
  async reveal(n) {
    this.pause();
    if (n >= this.end && !this.detached) this.render();
    if (n < this.hiddenAbove || n >= this.end) {
      const at = n - this.forgotten;
      if (at >= this.kept.length) return;
      let window;
      if (at >= 0) {
        const from = Math.max(0, at - WINDOW_LINES / 2);
        window = this.kept.slice(from, from + WINDOW_LINES);
      } else { // forgotten here: the server has it
        const from = Math.max(0, n - WINDOW_LINES / 2);
        window = await this.serverLines(from, Math.min(WINDOW_LINES, this.forgotten - from));
        if (!window.some((record) => record.n === n)) return;
      }
      this.replaceLines(window);
      this.updateControls();
    }
    const record = this.lines[n - this.lines[0].n];
    this.markCurrent(record);
    record.el.scrollIntoView({ block: 'center' });
  }

  /** Lines `from` … `from + count - 1` as the server numbers them, ready to render. */
  async serverLines(from, count) {
    const answer = await this.server.lines(from, count);
    return answer.lines.map(({ n, seq, idx, stream, time, text }) => ({
      n, seq, idx, stream, time, runs: new LineBuilder().feed(text).at(-1)?.runs ?? [], el: null,
    }));
  }

  /** Mark the line gone to (null: none). */
  markCurrent(record) {
    this.view.current?.el?.classList.remove('current-match');
    this.view.current = record;
    record?.el.classList.add('current-match');
  }

  /** Number of the first line in view (where a search starts from). */
  topLine() {
    const top = this.scroller.getBoundingClientRect().top;
    const below = (el) => el.getBoundingClientRect().bottom > top;
    const block = [...this.body.children].find(below); // blocks first: far fewer to measure
    const line = block && [...block.children].find(below);
    return this.lines.find((record) => record.el === line)?.n ?? this.end;
  }

  /** Draw every rendered line again (after the search or the timestamps changed). */
  redraw() {
    for (const record of this.lines) this.fill(record);
  }

  showTimes(on) {
    this.view.times = on;
    this.redraw();
  }

  /** Which streams to show: all (merged in order), stdout or stderr. */
  show(which) {
    this.element.dataset.show = which;
    this.search.setQuery(this.search.input.value);
  }

  /** Whether a line's stream is shown (a search skips the others). */
  shows(record) {
    const which = this.element.dataset.show;
    return which === 'all' || which === record.stream;
  }

  /** Text of the rendered lines. */
  text() {
    return this.lines.map(lineText).join('\n');
  }

  /** Lines grouped in blocks: the browser skips layout of blocks out of view (content-visibility). */
  blocksOf(records) {
    const blocks = [];
    for (let i = 0; i < records.length; i += BLOCK_LINES) {
      const block = document.createElement('div');
      block.className = 'block';
      block.append(...records.slice(i, i + BLOCK_LINES).map((record) => this.createLine(record)));
      blocks.push(block);
    }
    return blocks;
  }

  createLine(record) {
    record.el = document.createElement('div');
    record.el.className = `ln ${STREAM_CLASS[record.stream] ?? 'ln-out'}`;
    this.fill(record);
    return record.el;
  }

  fill(record) {
    const { el, runs } = record;
    const { pattern, times, current } = this.view;
    const marked = pattern && markedNodes(runs, lineText(record), pattern);
    if (!times && !marked && runs.length === 1 && runs[0].style === PLAIN) el.textContent = runs[0].text; // the common case, cheapest
    else el.replaceChildren(...(times ? [h('span', { class: 'ln-time', text: `${timeOfDay(record.time)} ` })] : []), ...(marked || runs.map(runNode)));
    if (record === current) el.classList.add('current-match');
  }
}

/** Lines of earlier pieces that come before `first`, numbered as the live pane numbered them. */
function linesBefore(pieces, first) {
  const records = [];
  const assembler = new LineAssembler({ added: (record) => records.push(record) });
  for (const piece of pieces) assembler.add(piece);
  return records.filter((r) => r.seq < first.seq || (r.seq === first.seq && r.idx < first.idx));
}

function countOf(lines) {
  return `${lines.toLocaleString()} line${lines === 1 ? '' : 's'}`;
}
