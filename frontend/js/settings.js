// Settings the browser remembers across visits (localStorage).

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

/** Whether new runs ask for expert mode (live output, Bolt's log and command line). */
export function expertMode() {
  const store = storage();
  return store ? store.getItem(EXPERT_KEY) === '1' : fallback;
}

export function setExpertMode(on) {
  const store = storage();
  if (store) store.setItem(EXPERT_KEY, on ? '1' : '0');
  else fallback = Boolean(on);
  window.dispatchEvent(new CustomEvent(EXPERT_MODE_EVENT, { detail: { expertMode: Boolean(on) } }));
}
