// Settings the browser remembers across visits (localStorage).

import { session } from './session.js';

const EXPERT_KEY = 'boltdeck.expertMode';
export const EXPERT_MODE_EVENT = 'boltdeck:expert-mode';

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage refused (privacy mode): the setting lives for this page only
  }
}

let fallback = false;

/** Whether the user's role may ask for expert mode (the policy's `expert_mode_roles`). */
export const expertModeAllowed = () => Boolean(session()?.expertMode);

/**
 * Whether new runs ask for expert mode (live output, Bolt's log and command line): the
 * remembered choice, and only when the role may (else the server would refuse the run).
 */
export function expertMode() {
  if (!expertModeAllowed()) return false;
  const store = storage();
  return store ? store.getItem(EXPERT_KEY) === '1' : fallback;
}

export function setExpertMode(on) {
  const store = storage();
  if (store) store.setItem(EXPERT_KEY, on ? '1' : '0');
  else fallback = Boolean(on);
  window.dispatchEvent(new CustomEvent(EXPERT_MODE_EVENT, { detail: { expertMode: Boolean(on) } }));
}
