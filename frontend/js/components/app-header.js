// The header: navigation, Bolt's availability (with the setting to fix it), expert mode,
// and who is logged in (name, role, "Log out").

import { api } from '../api.js';
import { append, h, replace, uid } from '../dom.js';
import { LOGIN_PATH } from '../pages/login-page.js';
import { navigate } from '../router.js';
import { logOut, session, SESSION_EVENT } from '../session.js';
import { EXPERT_MODE_EVENT, expertMode, expertModeAllowed, setExpertMode } from '../settings.js';

const HEALTH_REFRESH_MS = 60000;

/** Which navigation link is current for a path. */
const NAV_SECTIONS = {
  inventory: (path) => !['/plans', '/executions', '/admin'].some((section) => path.startsWith(section)),
  plans: (path) => path.startsWith('/plans'),
  executions: (path) => path.startsWith('/executions'),
  admin: (path) => path.startsWith('/admin'),
};

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
    this.expertLabel = h('label', { class: 'expert-toggle', htmlFor: toggleId, title: 'Runs stream live output, Bolt\'s log and command line' },
      this.expertToggle, h('span', { text: 'Expert mode' }));
    this.boltState = h('span', { class: 'bolt-state', dataset: { state: 'unknown' }, text: 'Bolt: checking…' });
    this.banner = h('div', { class: 'banner banner-error', hidden: true, attrs: { role: 'alert' } });
    this.links = {
      inventory: h('a', { href: '/inventory', text: 'Inventory' }),
      plans: h('a', { href: '/plans', text: 'Plans' }),
      executions: h('a', { href: '/executions', text: 'Executions' }),
      admin: h('a', { href: '/admin', text: 'Admin' }),
    };
    this.adminItem = h('li', {}, this.links.admin);
    this.nav = h('nav', { attrs: { 'aria-label': 'Main' } },
      h('ul', {}, h('li', {}, this.links.inventory), h('li', {}, this.links.plans), h('li', {}, this.links.executions), this.adminItem));
    this.userName = h('span', { class: 'user-name' });
    this.userRole = h('span', { class: 'user-role' });
    this.logoutButton = h('button', { type: 'button', class: 'logout', text: 'Log out', on: { click: () => this.logOut() } });
    // On narrow screens the navigation and tools fold behind this button (CSS shows it there).
    const menuId = uid('menu');
    this.menuButton = h('button', {
      type: 'button', class: 'menu-toggle', text: 'Menu',
      attrs: { 'aria-expanded': 'false', 'aria-controls': menuId },
      on: { click: () => this.toggleMenu() },
    });
    this.user = h('div', { class: 'user' }, h('span', { class: 'visually-hidden', text: 'Logged in as ' }),
      this.userName, this.userRole, this.logoutButton);
    replace(this,
      h('header', { class: 'app-header' },
        h('a', { class: 'brand', href: '/inventory', attrs: { 'aria-label': 'Boltdeck home' } },
          h('span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' }, text: '⚡' }), 'Boltdeck'),
        this.menuButton,
        h('div', { class: 'header-menu', id: menuId },
          this.nav,
          h('div', { class: 'header-tools' },
            h('span', { attrs: { 'aria-live': 'polite' } }, this.boltState),
            this.expertLabel,
            h('span', { id: `${toggleId}-hint`, class: 'visually-hidden', text: 'New runs stream live output, Bolt\'s log and the Bolt command line.' }),
            this.user))),
      this.banner);
    this.header = this.querySelector('.app-header');
    this.onExpertChange = (event) => { this.expertToggle.checked = event.detail.expertMode; };
    this.onSession = () => {
      this.showSession();
      this.refreshHealth(); // a visitor's page had no Bolt version yet
    };
    window.addEventListener(EXPERT_MODE_EVENT, this.onExpertChange);
    window.addEventListener(SESSION_EVENT, this.onSession);
    this.showSession();
    this.refreshHealth();
    this.timer = setInterval(() => this.refreshHealth(), HEALTH_REFRESH_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    window.removeEventListener(EXPERT_MODE_EVENT, this.onExpertChange);
    window.removeEventListener(SESSION_EVENT, this.onSession);
    this.built = false;
  }

  /** Show who is logged in; offer only what their role may use (nothing before a login). */
  showSession() {
    const who = session();
    this.nav.hidden = !who;
    this.user.hidden = !who;
    this.adminItem.hidden = !who?.canAdmin;
    this.expertLabel.hidden = !expertModeAllowed();
    this.expertToggle.checked = expertMode();
    this.userName.textContent = who?.name ?? '';
    this.userRole.textContent = who?.role ?? '';
    this.userRole.dataset.role = who?.role ?? '';
  }

  async logOut() {
    this.logoutButton.disabled = true;
    try {
      await logOut();
      navigate(LOGIN_PATH);
    } catch (error) {
      this.showBanner([`Could not log out: ${error.message}`]);
    } finally {
      this.logoutButton.disabled = false;
    }
  }

  toggleMenu(open = this.menuButton.getAttribute('aria-expanded') !== 'true') {
    this.menuButton.setAttribute('aria-expanded', String(open));
    this.header.dataset.menu = open ? 'open' : 'closed';
  }

  /** Mark the navigation link of the current page (and fold the narrow-screen menu again). */
  setActive(path) {
    this.toggleMenu(false);
    for (const [name, link] of Object.entries(this.links)) {
      if (NAV_SECTIONS[name](path)) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  async refreshHealth() {
    try {
      this.showHealth(await api('/api/health', { anonymous: true }));
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
    if (bolt.available) this.banner.hidden = true;
    else this.showBanner(boltMissing(bolt));
  }

  /**
   * Show a message in the banner. The same message again (the health check runs every minute)
   * leaves it alone: a role=alert region is read out again on every change.
   */
  showBanner(content) {
    const message = append(document.createDocumentFragment(), [content]);
    if (!this.banner.hidden && message.textContent === this.banner.textContent) return;
    replace(this.banner, message);
    this.banner.hidden = false;
  }
}

/**
 * Why Bolt is unavailable and the one setting that fixes it, said once (the server's `problem`
 * for a missing executable names the setting too). Visitors learn only that it is unavailable.
 */
function boltMissing(bolt) {
  const setting = bolt.setting ?? 'BOLTDECK_BOLT_BIN';
  let why = bolt.problem ? [' ', `${bolt.problem}.`] : '';
  if (!bolt.path && bolt.configured) why = [' ', h('code', { text: bolt.configured }), ' was not found.'];
  return [
    h('strong', { text: 'Bolt is not available.' }), why,
    ' Set ', h('code', { text: setting }), ' to the path of the bolt executable and restart Boltdeck. Runs fail until then.',
  ];
}
