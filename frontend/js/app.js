// The entry module: registers every component and routes the single page.

import { AppHeader } from './components/app-header.js';
import { FactsTree } from './components/facts-tree.js';
import { RealtimeOutputViewer } from './components/output-viewer.js';
import { RunForms } from './components/run-forms.js';
import { ExecutionPage } from './pages/execution-page.js';
import { ExecutionsPage } from './pages/executions-page.js';
import { InventoryPage } from './pages/inventory-page.js';
import { NodePage } from './pages/node-page.js';
import { RunPage } from './pages/run-page.js';
import { route, startRouter } from './router.js';

const COMPONENTS = {
  'bd-app-header': AppHeader,
  'bd-facts-tree': FactsTree,
  'bd-output-viewer': RealtimeOutputViewer,
  'bd-run-forms': RunForms,
  'bd-inventory-page': InventoryPage,
  'bd-node-page': NodePage,
  'bd-run-page': RunPage,
  'bd-executions-page': ExecutionsPage,
  'bd-execution-page': ExecutionPage,
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
route(/^\/executions$/, () => page('bd-executions-page'), 'Executions');
route(/^\/executions\/([^/]+)$/, ([, id]) => page('bd-execution-page', { 'execution-id': id }), ([, id]) => `Execution ${id.slice(0, 8)}`);

const header = document.querySelector('bd-app-header');
startRouter(document.getElementById('main'), (path) => header.setActive(path));
