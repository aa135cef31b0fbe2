"""What browser tests share: a page wrapper and starting executions through the API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ADMIN, ADMIN_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"


def credentials(server, role: str) -> tuple[str, str]:
    """User name and password of a user with `role` (the provisioned admin, or a test user made on first use)."""
    if role == "admin":
        return ADMIN, ADMIN_PASSWORD
    server.token_for(role)  # creates the user test-<role>
    return f"test-{role}", f"test-{role} password"


def log_in(context, server, role: str) -> None:
    """Log a browser context in (its cookie jar keeps the session cookie for every page)."""
    username, password = credentials(server, role)
    answer = context.request.post(server.url + "/api/auth/login", data={"username": username, "password": password})
    assert answer.ok, answer.text()


@dataclass
class UI:
    """A page on a live server, with what the page did that a test must not miss."""

    page: object
    server: object
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def execution_id(self, timeout: float = 10_000) -> str:
        """Wait for the execution page and answer its id."""
        self.page.wait_for_url(re.compile(r"/executions/[0-9a-f]+$"), timeout=timeout)
        return self.page.url.rsplit("/", 1)[1]

    def wait_finished(self, timeout: float = 30_000) -> None:
        self.page.wait_for_selector("bd-output-viewer .connection[data-state=finished]", timeout=timeout)

    def pane_lines(self, target: str, stream: str | None = None) -> list[str]:
        """Text of the rendered lines of a target's pane (optionally only stdout or stderr)."""
        return self.page.evaluate(
            """([target, stream]) => {
                const tab = [...document.querySelectorAll('bd-output-viewer [role=tab]')]
                    .find((t) => t.dataset.key === target);
                if (!tab) return null;
                const panel = document.getElementById(tab.getAttribute('aria-controls'));
                const cls = stream === 'stdout' ? '.ln-out' : stream === 'stderr' ? '.ln-err' : '.ln';
                return [...panel.querySelectorAll(cls)].map((line) => line.textContent);
            }""",
            [target, stream],
        )


def start(server, path: str, body: dict) -> str:
    """Start an execution through the API; answer its id."""
    response = server.run(path, body)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def assert_stored_up_to(ui, execution: str, last: int) -> None:
    """Check the server stored `seq 1 LAST` whole on localhost: what the page can show is what the
    server has, so a short output (Bolt, or its test double, losing the tail) must not be taken
    for the page's fault (it was, for a session: the page waited 60 s for a line never stored)."""
    answer = ui.page.request.get(f"{ui.server.url}/api/executions/{execution}/output?format=txt&target=localhost")
    stored = answer.text()
    assert stored.endswith(f"\n{last - 1}\n{last}\n"), f"the server stored {stored.count(chr(10))} lines, ending {stored[-16:]!r}"


# Installed before a page loads: the longest task the page ran (window.__longestTask, ms).
LONGEST_TASK = """
window.__longestTask = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longestTask = Math.max(window.__longestTask, entry.duration);
}).observe({ type: 'longtask', buffered: true });
"""
