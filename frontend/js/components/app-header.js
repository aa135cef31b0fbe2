// The header: navigation, Bolt's availability (with the setting to fix it), expert mode.

import { api } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { EXPERT_MODE_EVENT, expertMode, setExpertMode } from '../settings.js';

const HEALTH_REFRESH_MS = 60000;

export class AppHeader extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    const toggleId = uid('expert');
    this.expertToggle = h('input', {
      type: 'checkbox', id: toggleId, class: 'switch', checked: expertMode(),
      attrs: { 'aria-describedby': `${toggleId}-hint` },
      on: { change: () => setExpertMode(this.expertToggle.checked) },
    });
    this.boltState = h('span', { class: 'bolt-state', dataset: { state: 'unknown' }, text: 'Bolt: checking…' });
    this.banner = h('div', { class: 'banner banner-error', hidden: true, attrs: { role: 'alert' } });
    this.links = {
      inventory: h('a', { href: '/inventory', text: 'Inventory' }),
      executions: h('a', { href: '/executions', text: 'Executions' }),
    };
    replace(this,
      h('header', { class: 'app-header' },
        h('a', { class: 'brand', href: '/inventory', attrs: { 'aria-label': 'Boltdeck home' } },
          h('span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' }, text: '⚡' }), 'Boltdeck'),
        h('nav', { attrs: { 'aria-label': 'Main' } }, h('ul', {}, h('li', {}, this.links.inventory), h('li', {}, this.links.executions))),
        h('div', { class: 'header-tools' },
          h('span', { attrs: { 'aria-live': 'polite' } }, this.boltState),
          h('label', { class: 'expert-toggle', htmlFor: toggleId, title: 'Runs stream live output, Bolt\'s log and command line' },
            this.expertToggle, h('span', { text: 'Expert mode' })),
          h('span', { id: `${toggleId}-hint`, class: 'visually-hidden', text: 'New runs stream live output, Bolt\'s log and the Bolt command line.' }))),
      this.banner);
    this.onExpertChange = (event) => { this.expertToggle.checked = event.detail.expertMode; };
    window.addEventListener(EXPERT_MODE_EVENT, this.onExpertChange);
    this.refreshHealth();
    this.timer = setInterval(() => this.refreshHealth(), HEALTH_REFRESH_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    window.removeEventListener(EXPERT_MODE_EVENT, this.onExpertChange);
    this.built = false;
  }

  /** Mark the navigation link of the current page. */
  setActive(path) {
    for (const [name, link] of Object.entries(this.links)) {
      const active = name === 'inventory' ? !path.startsWith('/executions') : path.startsWith('/executions');
      if (active) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  async refreshHealth() {
    try {
      this.showHealth(await api('/api/health'));
    } catch (error) {
      this.boltState.dataset.state = 'error';
      this.boltState.textContent = 'Server unreachable';
      this.showBanner([`Boltdeck's server did not answer (${error.message}).`]);
    }
  }

  showHealth(health) {
    const bolt = health.bolt ?? {};
    this.boltState.dataset.state = bolt.available ? 'ok' : 'missing';
    this.boltState.textContent = bolt.available ? `Bolt ${bolt.version ?? ''}`.trim() : 'Bolt unavailable';
    this.boltState.title = bolt.path ?? '';
    if (bolt.available) {
      this.banner.hidden = true;
      return;
    }
    const setting = bolt.setting ?? 'BOLTDECK_BOLT_BIN';
    this.showBanner([
      h('strong', { text: 'Bolt is not available. ' }),
      bolt.problem ? `${bolt.problem}. ` : '',
      'Set ', h('code', { text: setting }), ' to the path of the bolt executable',
      bolt.configured ? [' (now ', h('code', { text: bolt.configured }), ')'] : '',
      ' and restart Boltdeck. Runs fail until then.',
    ]);
  }

  showBanner(content) {
    replace(this.banner, content);
    this.banner.hidden = false;
  }
}
