// Turning a stream of output chunks into display lines: line feeds end lines, a carriage
// return makes the following text rewrite the current line (progress bars), and the last
// line stays open until its line feed arrives, possibly several chunks later.

import { AnsiParser, CR, NL } from './ansi.js';

/** Append a styled run to a line, merging with the previous run when the style is the same. */
function appendRun(runs, token) {
  const last = runs[runs.length - 1];
  if (last && last.style === token.style) runs[runs.length - 1] = { text: last.text + token.text, style: last.style };
  else runs.push(token);
}

/**
 * Lines of one output stream (one target's stdout, say).
 * `feed(text)` answers the lines it touched, in order, as `{runs, complete, continues}`:
 * `runs` is the whole current content of the line, `continues` says it is the line that was
 * open before this chunk (so a view updates that line instead of adding one).
 */
export class LineBuilder {
  constructor() {
    this.ansi = new AnsiParser();
    this.open = null; // runs of the unfinished last line
    this.pendingCR = false;
  }

  feed(text) {
    const touched = [];
    let line = this.open;
    let continues = line !== null;
    let changed = false;
    for (const token of this.ansi.tokenize(text)) {
      if (token === CR) {
        this.pendingCR = true;
      } else if (token === NL) {
        this.pendingCR = false; // CR LF is a plain line end
        touched.push({ runs: line ?? [], complete: true, continues });
        line = null;
        continues = false;
        changed = false;
      } else {
        if (this.pendingCR) {
          // Terminals move the cursor back and overwrite; progress output rewrites the whole
          // line, so the line becomes what follows the CR.
          this.pendingCR = false;
          line = [];
        }
        line = line ?? [];
        appendRun(line, token);
        changed = true;
      }
    }
    if (line !== null && (changed || !continues)) touched.push({ runs: line, complete: false, continues });
    this.open = line;
    return touched;
  }

  /** End the open line, if any (used when a chunk is known to be the whole output). */
  finish() {
    const line = this.open;
    this.open = null;
    this.pendingCR = false;
    return line === null ? [] : [{ runs: line, complete: true, continues: true }];
  }
}
