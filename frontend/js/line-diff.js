// A line diff of two texts (the fleet view's outliers against the most common output): Myers'
// shortest edit script over the lines between a common head and tail, bounded in lines and edits.

export const DIFF_MAX_LINES = 2000; // of each output compared line by line (the rest is said to be cut)
export const DIFF_MAX_EDITS = 500; // more changed lines than this: no line diff (Myers' cost grows with them)

/**
 * The lines of `after` against those of `before` as `{ops, cut}`: ops are `{op, text}` with op
 * ' ' (both), '-' (only before) or '+' (only after), in order; null when more than `maxEdits`
 * lines differ. At most `maxLines` of each are compared, and `cut` says when some were not.
 */
export function lineDiff(before, after, { maxLines = DIFF_MAX_LINES, maxEdits = DIFF_MAX_EDITS } = {}) {
  const a = before.split('\n');
  const b = after.split('\n');
  const cut = a.length > maxLines || b.length > maxLines;
  const x = a.slice(0, maxLines);
  const y = b.slice(0, maxLines);
  // Outputs mostly differ in a few lines: the common head and tail cost nothing to Myers.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head += 1;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail += 1;
  const middle = myers(x.slice(head, x.length - tail), y.slice(head, y.length - tail), maxEdits);
  const same = (text) => ({ op: ' ', text });
  return {
    ops: middle && [...x.slice(0, head).map(same), ...middle, ...x.slice(x.length - tail).map(same)],
    cut,
  };
}

/** Myers' shortest edit script of a into b, or null beyond maxEdits edits; O((N+M)·D) time, O(D²) memory. */
function myers(a, b, maxEdits) {
  const n = a.length;
  const m = b.length;
  const offset = n + m + 1;
  const v = new Int32Array(2 * offset + 1); // furthest x on each diagonal k = x - y, at v[offset + k]
  const trace = []; // v's diagonals -(d+1)..d+1 before each round d, to walk back
  for (let d = 0; d <= Math.min(n + m, maxEdits); d += 1) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return walkBack(a, b, trace);
    }
  }
  return null;
}

function walkBack(a, b, trace) {
  const ops = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d -= 1) {
    const furthest = (k) => trace[d][k + d + 1];
    const k = x - y;
    const previous = k === -d || (k !== d && furthest(k - 1) < furthest(k + 1)) ? k + 1 : k - 1;
    const fromX = furthest(previous);
    const fromY = fromX - previous;
    for (; x > fromX && y > fromY; x -= 1, y -= 1) ops.push({ op: ' ', text: a[x - 1] });
    if (d > 0) ops.push(x === fromX ? { op: '+', text: b[y - 1] } : { op: '-', text: a[x - 1] });
    x = fromX;
    y = fromY;
  }
  return ops.reverse();
}
