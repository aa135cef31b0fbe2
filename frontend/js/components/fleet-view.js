// FleetView (<bd-fleet-view execution-id="…" kind="…">): an execution on many targets at a glance.
// Counts of targets by state (succeeded, failed, no result, changed by Puppet, running) that
// filter a list of every target, each jumping to its output; and the targets' final outputs
// grouped: an output several targets printed is shown once with how many printed it, every
// other output with a line diff against the most common one.
// It follows the `start`, `result`, `status` and `complete` events itself (replayed from the
// first one when the page opens later) and shows itself from FLEET_MIN_TARGETS targets up.
// Everything shown is the targets' or Bolt's text: it goes in through text nodes only.

import { stripAnsi } from '../ansi.js';
import { h, replace, uid } from '../dom.js';
import { DIFF_MAX_EDITS, DIFF_MAX_LINES, lineDiff } from '../line-diff.js';
import { errorText } from '../pieces.js';
import { followExecution } from '../stream.js';
import { FINAL_STATUSES } from './status.js';

/** Below this many targets the tabs and the results table are overview enough. */
export const FLEET_MIN_TARGETS = 10;
/** Fired (bubbling) with `{detail: {target}}` when the user asks for a target's output. */
export const SHOW_TARGET_EVENT = 'bd-show-target';

const FRAME_FALLBACK_MS = 250; // draw even where animation frames are throttled (hidden tab)
const SHOWN_LINES = 200; // of an output shown as text (the target's pane has all of it)
const DIFF_CONTEXT = 2; // unchanged lines shown around a change
const OPEN_DIFFS = 5; // outputs whose diff is open at first (the others open on demand)
const MEMBERS_INLINE = 5; // a group of up to this many targets names them in its heading

/** The filters, in the order shown; `changed` only for Puppet runs. */
const FILTERS = [
  ['all', 'All'], ['success', 'Succeeded'], ['failure', 'Failed'],
  ['no_result', 'No result'], ['changed', 'Changed'], ['running', 'Running'],
];
const MARKS = { success: '✓', failure: '✗', no_result: '–', running: '…' };
const STATE_WORDS = { success: 'succeeded', failure: 'failed', no_result: 'no result', running: 'running' };
const CHANGING_KINDS = new Set(['puppet', 'apply']);

export class FleetView extends HTMLElement {
  connectedCallback() {
    this.hidden = true; // until the targets are known to be many
    this.targets = new Map(); // name -> {name, index, state, changed, item, button, mark}
    this.counts = { success: 0, failure: 0, no_result: 0, changed: 0, running: 0 };
    this.groups = new OutputGroups();
    this.groupViews = new Map(); // group -> its view (see groupView)
    this.dirtyTargets = new Set();
    this.build();
    this.stream = followExecution(this.getAttribute('execution-id') ?? '', HANDLERS, this);
  }

  disconnectedCallback() {
    this.stream?.close();
    this.stream = null;
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameFallback);
  }

  build() {
    const heading = uid('fleet');
    const shown = FILTERS.filter(([key]) => key !== 'changed' || CHANGING_KINDS.has(this.getAttribute('kind')));
    this.filterButtons = new Map(shown.map(([key, label]) => [key, h('button', {
      type: 'button', class: 'fleet-filter', dataset: { filter: key }, attrs: { 'aria-pressed': String(key === 'all') },
      on: { click: () => this.filter(key) },
    }, h('span', { text: label }), ' ', h('span', { class: 'fleet-count', text: '0' }))]));
    this.list = h('ul', { class: 'fleet-targets', dataset: { filter: 'all' }, attrs: { 'aria-label': 'Targets' } });
    this.summary = h('p', { class: 'muted fleet-groups-summary' });
    this.groupList = h('div', { class: 'fleet-groups' });
    replace(this, h('section', { class: 'fleet', attrs: { 'aria-labelledby': heading } },
      h('h2', { id: heading, text: 'Fleet' }),
      h('div', { class: 'fleet-filters', attrs: { role: 'group', 'aria-label': 'Show targets' } }, [...this.filterButtons.values()]),
      this.list,
      h('h3', { text: 'Output by target' }), this.summary, this.groupList));
  }

  /** Show only the targets in one state (or changed, or all); the list's CSS does the hiding. */
  filter(key) {
    this.list.dataset.filter = key;
    for (const [other, button] of this.filterButtons) button.setAttribute('aria-pressed', String(other === key));
  }

  /** The targets Bolt runs on: few means no fleet view, and no need to follow the events. */
  setTargets(names) {
    for (const name of names) this.target(name);
    if (this.targets.size >= FLEET_MIN_TARGETS) this.schedule();
    else this.stream.close();
  }

  target(name) {
    let entry = this.targets.get(name);
    if (entry) return entry;
    const mark = h('span', { class: 'fleet-mark', attrs: { 'aria-hidden': 'true' } });
    const button = h('button', { type: 'button', class: 'fleet-target', on: { click: () => this.showTarget(name) } },
      mark, h('span', { text: name }));
    entry = { name, index: this.targets.size, state: 'running', changed: false, item: h('li', {}, button), button, mark };
    this.targets.set(name, entry);
    this.counts.running += 1;
    this.list.append(entry.item);
    this.dirtyTargets.add(entry);
    return entry;
  }

  setState(entry, state, changed) {
    this.counts[entry.state] -= 1;
    this.counts[state] += 1;
    this.counts.changed += Number(changed) - Number(entry.changed);
    Object.assign(entry, { state, changed });
    this.dirtyTargets.add(entry);
  }

  result(name, data) {
    const entry = this.target(name);
    this.setState(entry, data.status === 'success' ? 'success' : 'failure', data.changed === true || data.puppet?.changed > 0);
    this.groups.add(name, outputOf(data));
    this.schedule();
  }

  /** The execution ended: a target still without a result will get none. */
  settle() {
    for (const entry of this.targets.values()) if (entry.state === 'running') this.setState(entry, 'no_result', false);
    this.schedule();
  }

  schedule() {
    this.frame ??= requestAnimationFrame(() => this.draw());
    this.frameFallback ??= setTimeout(() => this.draw(), FRAME_FALLBACK_MS);
  }

  /** Once per frame: the counts, the targets that changed, the groups. */
  draw() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.frameFallback);
    this.frame = null;
    this.frameFallback = null;
    if (this.targets.size < FLEET_MIN_TARGETS) return;
    this.hidden = false;
    for (const [key, button] of this.filterButtons) {
      button.querySelector('.fleet-count').textContent = key === 'all' ? this.targets.size : this.counts[key];
    }
    for (const entry of this.dirtyTargets) drawTarget(entry);
    this.dirtyTargets.clear();
    this.drawGroups();
  }

  drawGroups() {
    const groups = this.groups.bySize();
    const reference = groups[0];
    const results = this.targets.size - this.counts.running - this.counts.no_result;
    this.summary.textContent = !groups.length ? 'No results yet.'
      : `${plural(groups.length, 'different output')} from ${plural(results, 'target')}`
        + `${groups.length > 1 ? `; each other output is compared with the most common one (${reference.members.size} targets)` : ''}.`;
    const views = groups.map((group, rank) => this.groupView(group, rank));
    for (const [group, view] of this.groupViews) {
      if (!group.members.size) this.groupViews.delete(group);
    }
    views.forEach((view) => view.draw(reference));
    if (views.some((view, i) => this.groupList.children[i] !== view.element)) replace(this.groupList, views.map((view) => view.element));
  }

  groupView(group, rank) {
    let view = this.groupViews.get(group);
    if (!view) {
      view = new GroupView(group, {
        diffOpen: rank <= OPEN_DIFFS,
        showTarget: (target) => this.showTarget(target),
        rankOf: (target) => this.targets.get(target)?.index ?? Infinity,
      });
      this.groupViews.set(group, view);
    }
    return view;
  }

  showTarget(target) {
    this.dispatchEvent(new CustomEvent(SHOW_TARGET_EVENT, { bubbles: true, detail: { target } }));
  }
}

function drawTarget(entry) {
  entry.item.dataset.state = entry.state;
  entry.item.dataset.changed = String(entry.changed);
  entry.mark.textContent = MARKS[entry.state];
  entry.button.setAttribute('aria-label',
    `${entry.name}: ${STATE_WORDS[entry.state]}${entry.changed ? ', changed' : ''}. Show its output`);
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

// ------------------------------------------------------------------------------ grouping

/**
 * What a target's result printed, as compared: stdout then stderr, else the value, else the
 * error; without colours, carriage returns and trailing blanks, which differ between runs of
 * the same thing.
 */
export function outputOf(result) {
  const printed = [result.stdout, result.stderr].filter(Boolean).map(String);
  let text = printed.join('\n');
  if (!printed.length && result.value !== null && result.value !== undefined) text = JSON.stringify(result.value, null, 2);
  if (!text && result.error) text = errorText(result.error);
  return stripAnsi(text).replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
}

/**
 * Targets grouped by identical output. Each output is hashed once when its result arrives, so a
 * result costs the length of its output, not the number of targets. (A Map keyed by the text
 * would do the same, but V8 hashes only a string's length beyond 16 Ki characters: long outputs
 * of equal length would all fall into one bucket.)
 */
export class OutputGroups {
  constructor() {
    this.byHash = new Map(); // hash -> [group] (more than one only on a collision)
    this.ofTarget = new Map(); // target -> its group
    this.made = 0;
  }

  add(target, text) {
    this.remove(target);
    const hash = hashText(text);
    const chain = this.byHash.get(hash) ?? [];
    let group = chain.find((candidate) => candidate.text === text);
    if (!group) {
      group = { text, members: new Set(), order: this.made++, version: 0 };
      chain.push(group);
      this.byHash.set(hash, chain);
    }
    group.members.add(target);
    group.version += 1;
    this.ofTarget.set(target, group);
  }

  remove(target) {
    const group = this.ofTarget.get(target);
    if (!group) return;
    group.members.delete(target);
    group.version += 1;
    this.ofTarget.delete(target);
    if (group.members.size) return;
    const hash = hashText(group.text);
    const chain = this.byHash.get(hash).filter((other) => other !== group);
    if (chain.length) this.byHash.set(hash, chain);
    else this.byHash.delete(hash);
  }

  /** Largest first; among equals, the first seen. */
  bySize() {
    return [...this.byHash.values()].flat().sort((a, b) => b.members.size - a.members.size || a.order - b.order);
  }
}

/** A 53-bit hash of a string (cyrb53, public domain): cheap, and collisions are checked anyway. */
function hashText(text) {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** One group on the page: its heading, its output once (or its diff), its targets. */
class GroupView {
  constructor(group, { diffOpen, showTarget, rankOf }) {
    this.group = group;
    this.showTarget = showTarget;
    this.rankOf = rankOf;
    this.heading = h('h4', { class: 'fleet-group-heading' });
    this.diff = h('details', { class: 'fleet-diff', open: diffOpen, on: { toggle: () => this.drawDiff() } },
      h('summary', { text: 'Difference from the most common output (− only there, + only here)' }), h('div'));
    this.output = h('details', { class: 'fleet-output-whole' }, h('summary', { text: 'This output' }),
      h('pre', { class: 'fleet-output', text: shownText(group.text) }));
    this.members = h('ul', { class: 'fleet-members' });
    this.memberList = h('details', { class: 'fleet-member-list', on: { toggle: () => this.drawMembers() } },
      h('summary'), this.members);
    this.element = h('article', { class: 'fleet-group' }, this.heading, this.diff, this.output, this.memberList);
  }

  /** Redraw what changed since the last frame: its targets, or which output is the most common. */
  draw(reference) {
    const common = reference === this.group;
    const drawn = `${this.group.version} ${common}`;
    if (drawn !== this.drawn) {
      this.drawn = drawn;
      this.drawHeading(common);
      this.drawMembers();
    }
    // The most common output is shown whole, any other as its difference from it.
    if (common !== this.common) {
      this.common = common;
      this.output.open = common;
      this.diff.hidden = common;
    }
    this.reference = common ? null : reference;
    this.drawDiff();
  }

  drawHeading(common) {
    const { members, text } = this.group;
    const inline = !common && members.size <= MEMBERS_INLINE;
    const what = common ? (members.size > 1 ? 'same output' : 'output') : 'different output';
    const who = inline ? [...members].map((name, i) => [i ? ', ' : '', jumpButton(name, this.showTarget)]) : plural(members.size, 'target');
    replace(this.heading, who, `: ${what}${text ? '' : ' (none)'}`);
    this.element.dataset.rank = common ? 'common' : 'other';
    this.element.dataset.targets = members.size;
    this.memberList.hidden = inline;
    this.memberList.firstElementChild.textContent = `The ${plural(members.size, 'target')}`;
  }

  /** The list of targets is built when opened (it may hold hundreds). */
  drawMembers() {
    if (!this.memberList.open) return;
    const names = [...this.group.members].sort((a, b) => this.rankOf(a) - this.rankOf(b));
    replace(this.members, names.map((name) => h('li', {}, jumpButton(name, this.showTarget))));
  }

  /** The diff against the most common output, computed again only when that one changed. */
  drawDiff() {
    if (!this.diff.open || !this.reference || this.diffedWith === this.reference) return;
    this.diffedWith = this.reference;
    const { ops, cut } = lineDiff(this.reference.text, this.group.text);
    replace(this.diff.lastElementChild, ops
      ? h('pre', { class: 'fleet-diff-lines' }, diffRows(ops))
      : h('p', { class: 'muted', text: `More than ${DIFF_MAX_EDITS} lines differ: no line diff.` }),
    cut ? h('p', { class: 'muted fleet-cut', text: `Only the first ${DIFF_MAX_LINES} lines of each output were compared.` }) : null);
  }
}

function jumpButton(name, showTarget) {
  return h('button', {
    type: 'button', class: 'fleet-jump', text: name,
    attrs: { 'aria-label': `Show the output of ${name}` }, on: { click: () => showTarget(name) },
  });
}

function shownText(text) {
  if (!text) return '';
  const lines = text.split('\n');
  if (lines.length <= SHOWN_LINES) return text;
  return `${lines.slice(0, SHOWN_LINES).join('\n')}\n… ${lines.length - SHOWN_LINES} more lines (see a target's output)`;
}

/** Diff lines as text rows; a long stretch of unchanged lines becomes one "… unchanged" row. */
function diffRows(ops) {
  const rows = [];
  const near = ops.map(() => false);
  ops.forEach((op, i) => {
    if (op.op === ' ') return;
    for (let j = Math.max(0, i - DIFF_CONTEXT); j <= Math.min(ops.length - 1, i + DIFF_CONTEXT); j += 1) near[j] = true;
  });
  for (let i = 0; i < ops.length; i += 1) {
    if (near[i]) {
      const { op, text } = ops[i];
      rows.push(h('span', { class: `diff-line diff-${{ ' ': 'same', '-': 'del', '+': 'add' }[op]}`, text: `${op} ${text}\n` }));
      continue;
    }
    let end = i;
    while (end + 1 < ops.length && !near[end + 1]) end += 1;
    rows.push(h('span', { class: 'diff-line diff-gap', text: `  … ${plural(end - i + 1, 'unchanged line')}\n` }));
    i = end;
  }
  return rows;
}

/** What each event type does to the view (called with the component as `this`). */
const HANDLERS = {
  start(event, data) {
    this.setTargets(data.expandedTargets ?? data.targets ?? []);
  },
  result(event, data) {
    this.result(data.target ?? event.target, data);
  },
  status(event, data) {
    if (FINAL_STATUSES.has(data.status)) this.settle();
  },
  complete() {
    this.settle();
  },
};
