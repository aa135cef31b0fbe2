// Building DOM without markup strings: every piece of text goes through a text node,
// so untrusted values (Bolt output, target names, task descriptions) can never become HTML.

/**
 * Create an element. `props` keys: `class`, `text`, `dataset`, `attrs`, `on` (event
 * listeners), `style` (CSSOM properties) and any DOM property (`type`, `value`, `checked`...).
 * Children may be nodes, strings (as text), numbers, arrays, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'attrs') setAttributes(el, value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === 'style') Object.assign(el.style, value);
    else el[key] = value;
  }
  append(el, children);
  return el;
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (/^on/i.test(name)) throw new Error(`refusing to set event handler attribute ${name}`);
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Append children (nodes, text, arrays; null and false are skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Announce a short message to screen readers through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node in the next frame makes screen readers repeat identical messages.
  requestAnimationFrame(() => { region.textContent = message; });
}

let idCounter = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'bd') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** "1:05:09" / "4:02" / "0:07" from milliseconds. */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** A local, readable timestamp for an ISO string. */
export function formatTime(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
  });
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

/** "5 minutes ago" for an ISO string (the largest unit that fits). */
export function relativeTime(iso, now = Date.now()) {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (Number.isNaN(seconds)) return '';
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? UNITS[3];
  return RELATIVE.format(Math.round(seconds / size), unit);
}

/** A <time> showing the local time with its zone, and how long ago it was as its title. */
export function timeElement(iso) {
  if (!iso) return '–';
  return h('time', { dateTime: iso, text: formatTime(iso), title: relativeTime(iso) });
}

/** Copy text to the clipboard, falling back to a hidden textarea where the API is refused. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { value: text, class: 'visually-hidden', attrs: { 'aria-hidden': 'true' } });
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** Save text as a file: a Blob behind a temporary link (no server round trip for the header). */
export function downloadText(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
