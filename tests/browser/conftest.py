"""Browser tests: Playwright driving Debian's Chromium against a live Boltdeck server."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import UI, log_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXPERT_MODE_ON = "localStorage.setItem('boltdeck.expertMode', '1')"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (each test gets its own context)."""
    from playwright import sync_api  # a test dependency: missing means failing, not skipping

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _make_ui(browser, server, *, expert: bool, role: str | None, init_scripts: tuple[str, ...] = (), permissions=()):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US", timezone_id="UTC")
    if role:
        log_in(context, server, role)
    if permissions:
        context.grant_permissions(list(permissions), origin=server.url)
    if expert:
        context.add_init_script(EXPERT_MODE_ON)
    for script in init_scripts:
        context.add_init_script(script)
    page = context.new_page()
    page.set_default_timeout(15_000)
    ui = UI(page=page, server=server)

    def on_dialog(dialog):
        ui.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: ui.errors.append(str(error)))
    return context, ui


@pytest.fixture
def make_ui(browser, server):
    """Open pages on the shared live server, logged in as `role` (None: not at all); no uncaught page errors allowed."""
    opened = []

    def factory(
        *, expert: bool = True, role: str | None = "admin", init_scripts: tuple[str, ...] = (), permissions=(), live=None
    ) -> UI:
        context, ui = _make_ui(
            browser, live or server, expert=expert, role=role, init_scripts=init_scripts, permissions=permissions
        )
        opened.append((context, ui))
        return ui

    yield factory
    for context, ui in opened:
        context.close()
        assert not ui.errors, f"uncaught errors in the page: {ui.errors}"


@pytest.fixture
def ui(make_ui) -> UI:
    """A page logged in as the admin, with expert mode on (the common case for output tests)."""
    return make_ui()
