// The HTTP API client: JSON in, JSON out, one error type carrying the server's error shape.
// It is the one place that talks to the API with fetch: it adds the session's CSRF token to
// every request that changes state, and tells the app when the server no longer knows us (401).

/** Fired on `window` when a request answers 401: the session ended, the app shows the login page. */
export const UNAUTHENTICATED_EVENT = 'boltdeck:unauthenticated';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// In memory only: never in storage a script could read later, never in a URL.
let csrfToken = '';

/** Remember the session's CSRF token (from the login or /api/auth/me answer); '' forgets it. */
export function setCsrfToken(token) {
  csrfToken = token ?? '';
}

/** An error answer of the API: {"error": {"code", "message", "details"}}. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message || `request failed with HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'http_error';
    this.details = error.details && typeof error.details === 'object' ? error.details : {};
  }

  /** Field problems as {field: [messages]} (only the entries whose value is a list of strings). */
  get fieldErrors() {
    const fields = {};
    for (const [name, value] of Object.entries(this.details)) {
      if (Array.isArray(value)) fields[name] = value.map(String);
    }
    return fields;
  }
}

/**
 * Call the API; resolves to the parsed JSON body, rejects with ApiError (or a network TypeError).
 * `anonymous`: the call is made without a session on purpose (login, the start-up check), so a
 * 401 is the caller's answer to handle, not a sign that the session ended.
 */
export async function api(path, { method = 'GET', body, signal, anonymous = false } = {}) {
  const response = await send(path, { method, body, signal, anonymous, accept: 'application/json' });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** GET a plain-text resource of the API (an execution's output); rejects with ApiError. */
export async function apiText(path, { signal } = {}) {
  const response = await send(path, { method: 'GET', signal, accept: 'text/plain' });
  if (!response.ok) throw new ApiError(response.status, null);
  return response.text();
}

async function send(path, { method, body, signal, anonymous = false, accept }) {
  const init = { method, signal, headers: { Accept: accept }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!SAFE_METHODS.has(method.toUpperCase()) && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, init);
  if (response.status === 401 && !anonymous) {
    window.dispatchEvent(new CustomEvent(UNAUTHENTICATED_EVENT, { detail: { path } }));
  }
  return response;
}

/** Build a query string from an object, skipping empty values; arrays become comma lists. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length) search.set(key, value.join(','));
    } else {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const executionPath = (id) => `/api/executions/${encodeURIComponent(id)}`;

/** What a page says of a failed request. Bolt being unavailable is said once, by the header's banner. */
export function problemText(error) {
  return error?.code === 'bolt_unavailable' ? 'Bolt is not available (see the message at the top of the page).' : String(error?.message ?? error);
}
