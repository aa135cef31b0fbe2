// Who is logged in: the session the server confirmed (login or /api/auth/me), kept in memory.
// Components read it to decide which controls to offer; the server decides what is allowed.

import { api, setCsrfToken } from './api.js';

/** Fired on `window` when the user logs in or out; `detail.session` is the new session or null. */
export const SESSION_EVENT = 'boltdeck:session';

let current = null;

/** The current session ({name, role, via, canRun, canAdmin, expertMode}) or null. */
export function session() {
  return current;
}

/** Whether the current user may start, cancel and rerun executions. */
export const canRun = () => Boolean(current?.canRun);

/** Whether the current user may use the admin page and API. */
export const canAdmin = () => Boolean(current?.canAdmin);

function setSession(body) {
  // The CSRF token stays with the API client; components get everything else.
  const { csrfToken, ...who } = body ?? {};
  setCsrfToken(csrfToken);
  current = body ? Object.freeze(who) : null;
  window.dispatchEvent(new CustomEvent(SESSION_EVENT, { detail: { session: current } }));
  return current;
}

/** Ask the server who we are; null when it does not know us (401). Other errors are thrown. */
export async function loadSession() {
  try {
    return setSession(await api('/api/auth/me', { anonymous: true }));
  } catch (error) {
    if (error.status === 401) return setSession(null);
    throw error;
  }
}

/** Log in with a password; rejects with the server's ApiError (invalid_credentials, rate_limited). */
export async function logIn(username, password) {
  return setSession(await api('/api/auth/login', { method: 'POST', body: { username, password }, anonymous: true }));
}

/** Log out on the server, then forget the session here (also when the server already forgot it). */
export async function logOut() {
  try {
    await api('/api/auth/logout', { method: 'POST', anonymous: true });
  } catch (error) {
    if (error.status !== 401) throw error; // still logged in: say so rather than pretend
  }
  setSession(null);
}

/** The server answered 401 to a request: forget the session. */
export function sessionEnded() {
  if (current) setSession(null);
}
