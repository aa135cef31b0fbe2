// The page for a path the app does not know (the router's last route).

import { h, replace } from '../dom.js';

export class NotFoundPage extends HTMLElement {
  connectedCallback() {
    replace(this, h('div', { class: 'not-found' },
      h('h1', { text: 'Page not found' }),
      h('p', {}, 'There is no page at ', h('code', { text: location.pathname }), '.'),
      h('p', {}, 'Go to the ', h('a', { href: '/inventory', text: 'inventory' }), ' or the ',
        h('a', { href: '/executions', text: 'execution history' }), '.')));
  }
}
