// A modal confirmation (<dialog>) that names what will happen and where, for risky runs:
// package changes, real Puppet runs, and runs on many targets.

import { h } from '../dom.js';

// Runs on more targets than this ask first. The server may set it (session `confirmAboveTargets`).
export const DEFAULT_CONFIRM_ABOVE_TARGETS = 10;

/** Why a run needs confirming (a sentence), or null. `path` is the API route, `body` the request. */
export function riskOf(path, body, confirmAbove = DEFAULT_CONFIRM_ABOVE_TARGETS) {
  const count = (body.targets ?? []).length; // a plan may name its targets in its parameters instead
  const many = count > confirmAbove ? ` on ${count} targets` : '';
  if (path === '/api/packages' && body.action !== 'status') {
    return `${body.action} package ${body.name}${body.version ? ` ${body.version}` : ''}${many}`;
  }
  if (path === '/api/puppet/runs' && !body.noop) return `a real Puppet run (not noop) that applies changes${many}`;
  if (path === '/api/apply/runs' && !body.noop) return `apply Puppet code for real (not noop)${many}`;
  return many ? `run this${many}` : null;
}

/** Ask to confirm `what` on `targets`; resolves true only when the user confirms. */
export function confirmRun(what, targets) {
  return confirmDialog({
    message: ['This will ', h('strong', { text: what }), ` on ${targets.length === 1 ? 'this target' : `these ${targets.length} targets`}:`],
    items: targets,
    confirmLabel: 'Yes, run it',
  });
}

/** A modal asking to confirm `message` (about `items`); resolves true only on `confirmLabel`. */
export function confirmDialog({ message, items = [], confirmLabel }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm-dialog', attrs: { 'aria-labelledby': 'confirm-heading' } });
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const confirm = h('button', { type: 'button', class: 'danger', text: confirmLabel, on: { click: () => finish(true) } });
    const cancel = h('button', { type: 'button', text: 'Cancel', on: { click: () => finish(false) } });
    dialog.append(
      h('h2', { id: 'confirm-heading', text: 'Please confirm' }),
      h('p', {}, message),
      items.length ? h('ul', { class: 'chips' }, items.map((name) => h('li', { class: 'chip', text: name }))) : null,
      h('div', { class: 'form-actions' }, confirm, cancel));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); finish(false); }); // Escape
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus(); // the safe choice has the focus
  });
}
