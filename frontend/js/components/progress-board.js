// ProgressBoard: one progress bar per target, fed by `progress` events that carry a target.
// The phase is shown as text; the bar is indeterminate unless the tool said a percent (or a
// step N of M). Every viewer sees it: the events hold phases, never the output itself.

import { h } from '../dom.js';

export class ProgressBoard {
  constructor() {
    this.rows = new Map();
    this.list = h('ul', { class: 'progress-board', attrs: { 'aria-label': 'Progress per target' } });
    this.element = h('section', { class: 'progress-section', hidden: true, attrs: { 'aria-labelledby': 'progress-heading' } },
      h('h2', { id: 'progress-heading', text: 'Progress per target' }), this.list);
  }

  /** `progress` event data of one target: {tool, phase, percent?, current?, total?, item?}. */
  update(target, data) {
    const row = this.row(target);
    const fraction = typeof data.percent === 'number' ? data.percent / 100
      : (data.current && data.total ? data.current / data.total : null);
    if (fraction === null) row.bar.removeAttribute('value'); // no value: the bar is indeterminate
    else row.bar.value = Math.max(0, Math.min(1, fraction));
    const step = data.current && data.total ? ` ${data.current}/${data.total}` : '';
    const percent = typeof data.percent === 'number' ? ` ${Math.round(data.percent)}%` : '';
    row.phase.textContent = `${data.tool ? `${data.tool}: ` : ''}${data.phase ?? ''}${data.item ? ` ${data.item}` : ''}${step}${percent}`;
    row.element.dataset.state = 'running';
  }

  /** The target's result arrived: its bar ends full, marked as the result says. */
  finish(target, status) {
    const row = this.rows.get(target);
    if (!row) return;
    row.bar.value = 1;
    row.element.dataset.state = status === 'success' ? 'success' : 'failure';
  }

  row(target) {
    let row = this.rows.get(target);
    if (row) return row;
    const bar = h('progress', { max: 1, attrs: { 'aria-label': `Progress of ${target}` } });
    const phase = h('span', { class: 'progress-phase' });
    row = { bar, phase, element: h('li', { class: 'progress-target', dataset: { target } }, h('span', { class: 'progress-name', text: target }), bar, phase) };
    this.rows.set(target, row);
    this.list.append(row.element);
    this.element.hidden = false;
    return row;
  }
}
