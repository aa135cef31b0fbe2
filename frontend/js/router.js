// Client-side routing with the History API; the server answers index.html for these paths.

const routes = [];
let outlet = null;
let onChange = () => {};
let redirect = () => null;

/** Register a route: `pattern` is a RegExp on the path; `render(match, searchParams)` returns a node. */
export function route(pattern, render, title) {
  routes.push({ pattern, render, title });
}

/**
 * Start routing into `element`. `changed(path)` is called after each page change;
 * `guard(path, search)` may answer another path to go to instead (the login page), or null.
 */
export function startRouter(element, { changed = () => {}, guard = () => null } = {}) {
  outlet = element;
  onChange = changed;
  redirect = guard;
  window.addEventListener('popstate', () => show());
  document.addEventListener('click', interceptLinks);
  show({ focus: false });
}

/** Go to a path inside the app (pushes history unless `replace`). */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  show();
}

function interceptLinks(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest?.('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/static/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

function show({ focus = true } = {}) {
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  const elsewhere = redirect(path, params);
  if (elsewhere) {
    navigate(elsewhere, { replace: true });
    return;
  }
  for (const { pattern, render, title } of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    const decoded = match.map((part) => (part === undefined ? part : safeDecode(part)));
    outlet.replaceChildren(render(decoded, params));
    document.title = `${typeof title === 'function' ? title(decoded) : title} · Boltdeck`;
    onChange(path);
    if (focus) outlet.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    return;
  }
  navigate('/inventory', { replace: true });
}

function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
