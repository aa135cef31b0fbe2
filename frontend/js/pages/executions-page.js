// Execution history: filters, pagination, and live status while executions run.

import { api, query } from '../api.js';
import { formatDuration, h, replace, timeElement, uid } from '../dom.js';
import { filterForm } from '../forms.js';
import { executionTitle, FINAL_STATUSES, statusBadge } from '../components/status.js';

const STATUSES = ['queued', 'running', 'success', 'partial', 'failed', 'cancelled', 'timed_out', 'interrupted'];
const KINDS = ['command', 'task', 'puppet', 'package', 'apply', 'plan'];
const PAGE_SIZES = [25, 50, 100, 200];
const LIVE_REFRESH_MS = 2000;

export class ExecutionsPage extends HTMLElement {
  connectedCallback() {
    this.filters = readFilters(new URLSearchParams(location.search));
    this.controls = this.filterControls();
    this.summary = h('p', { class: 'muted', attrs: { 'aria-live': 'polite' } });
    this.tableBox = h('div', { class: 'table-scroll' });
    this.prev = h('button', { type: 'button', text: '← Newer', on: { click: () => this.page(-1) } });
    this.next = h('button', { type: 'button', text: 'Older →', on: { click: () => this.page(1) } });
    replace(this,
      h('div', { class: 'page-head' }, h('h1', { text: 'Executions' })),
      this.controls.form,
      this.tableBox,
      h('div', { class: 'pager' }, this.summary, h('span', { class: 'spacer' }), this.prev, this.next));
    this.load();
  }

  disconnectedCallback() {
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  filterControls() {
    const select = (name, label, options) => {
      const control = h('select', { name, id: uid(name) },
        h('option', { value: '', text: 'any' }),
        options.map((o) => h('option', { value: o, text: o.replace('_', ' '), selected: this.filters[name] === o })));
      return [h('label', { htmlFor: control.id, text: label }), control];
    };
    const input = (name, label, type, value) => {
      const control = h('input', { name, id: uid(name), type, value: value ?? '' });
      return [h('label', { htmlFor: control.id, text: label }), control];
    };
    const sizes = [...new Set([...PAGE_SIZES, this.filters.limit])].sort((a, b) => a - b);
    const size = h('select', { name: 'limit', id: uid('limit') },
      sizes.map((n) => h('option', { value: n, text: n, selected: this.filters.limit === n })));
    const form = filterForm('Filter executions', [
      h('div', { class: 'filter' }, select('status', 'Status', STATUSES)),
      h('div', { class: 'filter' }, select('kind', 'Kind', KINDS)),
      h('div', { class: 'filter' }, input('q', 'Command or task contains', 'search', this.filters.q)),
      h('div', { class: 'filter' }, input('target', 'Target', 'search', this.filters.target)),
      h('div', { class: 'filter' }, input('createdBy', 'Started by', 'search', this.filters.createdBy)),
      h('div', { class: 'filter' }, input('since', 'Since', 'datetime-local', toLocalInput(this.filters.since))),
      h('div', { class: 'filter' }, input('until', 'Until', 'datetime-local', toLocalInput(this.filters.until))),
      h('div', { class: 'filter' }, h('label', { htmlFor: size.id, text: 'Per page' }), size),
    ], (data) => this.applyFilters(data));
    return { form };
  }

  applyFilters(data) {
    const since = data.get('since');
    const until = data.get('until');
    this.filters = {
      status: data.get('status') || '',
      kind: data.get('kind') || '',
      target: (data.get('target') || '').trim(),
      createdBy: (data.get('createdBy') || '').trim(),
      q: (data.get('q') || '').trim(),
      since: since ? new Date(since).toISOString() : '',
      until: until ? new Date(until).toISOString() : '',
      limit: Number(data.get('limit')) || 50,
      offset: 0,
    };
    this.pushUrl();
    this.load();
  }

  page(direction) {
    const { limit, offset } = this.filters;
    this.filters.offset = Math.max(0, offset + direction * limit);
    this.pushUrl();
    this.load();
  }

  pushUrl() {
    const { limit, offset, ...rest } = this.filters;
    history.pushState(null, '', `/executions${query({ ...rest, limit: limit === 50 ? '' : limit, offset: offset || '' })}`);
  }

  async load() {
    clearTimeout(this.timer);
    this.abort?.abort();
    this.abort = new AbortController();
    try {
      const body = await api(`/api/executions${query(this.filters)}`, { signal: this.abort.signal });
      this.show(body);
      if (body.items.some((item) => !FINAL_STATUSES.has(item.status))) {
        this.timer = setTimeout(() => this.load(), LIVE_REFRESH_MS);
      }
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(this.tableBox, h('p', { class: 'form-error', attrs: { role: 'alert' }, text: `Could not load executions: ${error.message}` }));
    }
  }

  show({ items, total }) {
    const { offset } = this.filters;
    this.summary.textContent = total
      ? `Showing ${offset + 1}–${offset + items.length} of ${total}`
      : 'No executions match.';
    this.prev.disabled = offset === 0;
    this.next.disabled = offset + items.length >= total;
    replace(this.tableBox, items.length ? historyTable(items) : null);
  }
}

function historyTable(items) {
  const cell = (label, props, ...children) => h('td', { ...props, dataset: { label } }, ...children);
  return h('table', { class: 'data-table history cards' },
    h('caption', { class: 'visually-hidden', text: 'Executions, newest first' }),
    h('thead', {}, h('tr', {}, ['What', 'Started', 'Started by', 'Targets', 'Status', 'Duration', 'Exit code'].map((text) => h('th', { scope: 'col', text })))),
    h('tbody', {}, items.map((item) => h('tr', { dataset: { id: item.id, status: item.status } },
      h('th', { scope: 'row', class: 'what' },
        h('a', { href: `/executions/${encodeURIComponent(item.id)}`, text: executionTitle(item) }),
        item.parentId ? [' ', h('a', {
          class: 'muted parent-link', href: `/executions/${encodeURIComponent(item.parentId)}`,
          text: `(rerun${item.rerunScope === 'failed' ? ' of failed' : ''} of ${item.parentId.slice(0, 8)})`,
        })] : null),
      cell('Started', { class: 'nowrap' }, timeElement(item.startedAt ?? item.createdAt)),
      cell('Started by', { class: 'started-by', text: item.createdBy ?? '–' }),
      cell('Targets', { text: (item.targets ?? []).join(', ') }),
      cell('Status', {}, statusBadge(item.status), item.queuePosition ? h('span', { class: 'muted', text: ` #${item.queuePosition}` }) : null),
      cell('Duration', { class: 'num', text: durationOf(item) }),
      cell('Exit code', { class: 'num', text: item.exitCode ?? '–' })))));
}

function durationOf(item) {
  if (item.durationMs !== null && item.durationMs !== undefined) return formatDuration(item.durationMs);
  if (item.status === 'running' && item.startedAt) return formatDuration(Date.now() - Date.parse(item.startedAt));
  return '–';
}

function readFilters(params) {
  const limit = Number(params.get('limit'));
  return {
    status: params.get('status') ?? '',
    kind: params.get('kind') ?? '',
    target: params.get('target') ?? '',
    createdBy: params.get('createdBy') ?? '',
    q: params.get('q') ?? '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : 50,
    offset: Math.max(0, Number(params.get('offset')) || 0),
  };
}

/** ISO timestamp → the local `YYYY-MM-DDTHH:MM` a datetime-local input shows. */
function toLocalInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}
