// The entry module: registers every component, declares routes, and starts once it knows
// who is logged in (a visitor without a session sees the login page first).

import { UNAUTHENTICATED_EVENT } from './api.js';
import { AppHeader } from './components/app-header.js';
import { FactsTree } from './components/facts-tree.js';
import { FleetView } from './components/fleet-view.js';
import { RealtimeOutputViewer } from './components/output-viewer.js';
import { PlanSteps } from './components/plan-steps.js';
import { RunForms } from './components/run-forms.js';
import { h, replace } from './dom.js';
import { AdminPage } from './pages/admin-page.js';
import { ExecutionPage } from './pages/execution-page.js';
import { ExecutionsPage } from './pages/executions-page.js';
import { InventoryPage } from './pages/inventory-page.js';
import { LOGIN_PATH, LoginPage, loginPathFor, returnPath } from './pages/login-page.js';
import { NodePage } from './pages/node-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { PlansPage } from './pages/plans-page.js';
import { RunPage } from './pages/run-page.js';
import { navigate, route, startRouter } from './router.js';
import { loadSession, session, sessionEnded } from './session.js';

const COMPONENTS = {
  'bd-app-header': AppHeader,
  'bd-facts-tree': FactsTree,
  'bd-output-viewer': RealtimeOutputViewer,
  'bd-run-forms': RunForms,
  'bd-plan-steps': PlanSteps,
  'bd-fleet-view': FleetView,
  'bd-inventory-page': InventoryPage,
  'bd-node-page': NodePage,
  'bd-run-page': RunPage,
  'bd-plans-page': PlansPage,
  'bd-executions-page': ExecutionsPage,
  'bd-execution-page': ExecutionPage,
  'bd-login-page': LoginPage,
  'bd-admin-page': AdminPage,
  'bd-not-found-page': NotFoundPage,
};
for (const [name, component] of Object.entries(COMPONENTS)) {
  if (!customElements.get(name)) customElements.define(name, component);
}

/** A page element with attributes (values are set as attributes, never parsed as markup). */
function page(tag, attributes = {}) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

route(/^\/(?:inventory)?$/, () => page('bd-inventory-page'), 'Inventory');
route(/^\/targets\/(.+)$/, ([, name]) => page('bd-node-page', { target: name }), ([, name]) => name);
route(/^\/run$/, (match, params) => page('bd-run-page', { targets: params.get('targets') ?? '' }), 'Run');
route(/^\/plans(?:\/(.+))?$/, ([, name]) => page('bd-plans-page', name ? { plan: name } : {}), ([, name]) => name ?? 'Plans');
route(/^\/executions$/, () => page('bd-executions-page'), 'Executions');
route(/^\/executions\/([^/]+)$/, ([, id]) => page('bd-execution-page', { 'execution-id': id }), ([, id]) => `Execution ${id.slice(0, 8)}`);
route(/^\/login$/, () => page('bd-login-page'), 'Log in');
route(/^\/admin$/, () => page('bd-admin-page'), 'Admin');
route(/^/, () => page('bd-not-found-page'), 'Page not found'); // last: any other path

/** Without a session every page is the login page; with one, the login page is not. */
function guard(path, params) {
  if (!session()) return path === LOGIN_PATH ? null : loginPathFor(path + location.search);
  return path === LOGIN_PATH ? returnPath(params) : null;
}

// Any request answering 401 means the session ended (expired, or logged out elsewhere).
window.addEventListener(UNAUTHENTICATED_EVENT, () => {
  sessionEnded();
  if (location.pathname !== LOGIN_PATH) {
    navigate(loginPathFor(location.pathname + location.search, { expired: true }), { replace: true });
  }
});

async function start() {
  const main = document.getElementById('main');
  const header = document.querySelector('bd-app-header');
  try {
    await loadSession();
  } catch (error) {
    const message = `Boltdeck's server did not answer (${error.message}). Reload the page to try again.`;
    replace(main, h('p', { class: 'form-error', attrs: { role: 'alert' }, text: message }));
    return;
  }
  startRouter(main, { changed: (path) => header.setActive(path), guard });
}

start();
