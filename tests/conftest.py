"""Shared fixtures: the Bolt test double, an in-process app, and live servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .pg import fresh_database_url, on_postgres
from .streaming.sse_client import close_open_streams

ROOT = Path(__file__).resolve().parents[1]
BOLT_DOUBLE = ROOT / "tests" / "bolt_double" / "bolt"
TEST_PROJECT = ROOT / "tests" / "bolt_double" / "project"
# Real Bolt's output, captured once (see the README there): the contract of the parser and the double.
BOLT_SAMPLES = ROOT / "tests" / "bolt_samples"
# A project both the real Bolt and the double run in: localhost, local2, and `refused` (127.0.0.1:1).
SCENARIO_PROJECT = ROOT / "tests" / "realbolt" / "project"
REAL_BOLT_SETTING = "BOLTDECK_TEST_REAL_BOLT"
REAL_BOLT_MISSING = (
    f"real Bolt not available: set {REAL_BOLT_SETTING}=/path/to/bolt (../shared/real-bolt/install.sh installs it)"
)


def server_env(tmp_path: Path, **settings) -> dict[str, str]:
    """Environment for a Boltdeck process: its own database, the double, the test project.

    The database is a SQLite file in tmp_path, or a new PostgreSQL database when the tests run
    with BOLTDECK_TEST_DATABASE=postgresql (see tests/pg.py for which server).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_")}
    database_url = fresh_database_url() if on_postgres() else f"sqlite:///{tmp_path / 'boltdeck.sqlite3'}"
    env.update(
        {
            "BOLTDECK_DATABASE_URL": database_url,
            "BOLTDECK_BOLT_BIN": str(BOLT_DOUBLE),
            "BOLTDECK_BOLT_PROJECT": str(TEST_PROJECT),
            "BOLTDECK_LOG_LEVEL": "WARNING",
            "BOLT_DOUBLE_LOG": str(tmp_path / "bolt-invocations.jsonl"),
        }
    )
    env.update({f"BOLTDECK_{k.upper()}": str(v) for k, v in settings.items()})
    return env


ADMIN = "admin"
ADMIN_PASSWORD = "test admin password"


def boltdeck_cli(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> str:
    """Run `boltdeck ARGS` as an operator would; returns its stdout, fails the test on an error."""
    done = subprocess.run(
        [sys.executable, "-m", "boltdeck", *args], env=env, input=stdin, capture_output=True, text=True, cwd=cwd
    )
    assert done.returncode == 0, f"boltdeck {' '.join(args)} failed: {done.stderr}"
    return done.stdout


class LiveServer:
    """A real `boltdeck serve` process on 127.0.0.1 with an ephemeral port.

    Before it starts, the first admin is created with the CLI, as the README says, and given an
    API token; `api()` sends that token unless the call brings its own Authorization.
    """

    def __init__(self, tmp_path: Path, extra_env: dict[str, str] | None = None, **settings):
        self.tmp_path = tmp_path
        self.env = server_env(tmp_path, **settings)
        self.env.update(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.token = ""
        self._role_tokens: dict[str, str] = {}

    @property
    def auth(self) -> dict[str, str]:
        """The admin's Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    def cli(self, *args: str, stdin: str = "") -> str:
        return boltdeck_cli(self.env, *args, stdin=stdin, cwd=self.tmp_path)

    def token_for(self, role: str) -> str:
        """An API token of a user with `role` (one user per role, created on first use)."""
        if role not in self._role_tokens:
            name = f"test-{role}"
            created = self.api("POST", "/api/users", json={"name": name, "role": role, "password": f"{name} password"})
            assert created.status_code == 201, created.text
            token = self.api("POST", "/api/tokens", json={"user": name, "name": "tests"})
            self._role_tokens[role] = token.json()["token"]
        return self._role_tokens[role]

    def headers_for(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(role)}"}

    @property
    def invocations_file(self) -> Path:
        return Path(self.env["BOLT_DOUBLE_LOG"])

    def invocations(self) -> list[list[str]]:
        """Every argv (without the program name) the Bolt double was started with by this server."""
        if not self.invocations_file.exists():
            return []
        lines = self.invocations_file.read_text().splitlines()
        return [_argv_of(json.loads(line)) for line in lines if line.strip()]

    def start(self) -> "LiveServer":
        if not self.token:
            self.cli("users", "create", ADMIN, "--role", "admin", stdin=ADMIN_PASSWORD + "\n")
            self.token = self.cli("tokens", "create", "--user", ADMIN, "--name", "tests").strip()
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "boltdeck", "serve", "--host", "127.0.0.1", "--port", "0"],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self.tmp_path,
            )
        deadline = time.monotonic() + 30
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            match = re.search(rb"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.url = f"http://127.0.0.1:{int(match.group(1))}"
                return self
            if self.proc.poll() is not None:
                break
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"server did not start: {line!r}; log: {self.log_path.read_text()}")

    @property
    def log_path(self) -> Path:
        return self.tmp_path / "server.log"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Stop the server with `sig` (SIGKILL after `timeout`); its exit code, None if never started."""
        return stop_process(self.proc, sig, timeout)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """A request as the admin (unless `headers` bring their own Authorization, or `auth=False`)."""
        kwargs.setdefault("timeout", 30)
        headers = dict(kwargs.pop("headers", None) or {})
        if kwargs.pop("auth", True) and "Authorization" not in headers:
            headers.update(self.auth)
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def run(self, path: str, body: dict, wait: bool = False, headers: dict | None = None) -> requests.Response:
        return self.api("POST", path + ("?wait=true" if wait else ""), json=body, timeout=120, headers=headers)

    def wait_final(self, execution_id: str, timeout: float = 60) -> dict:
        """Poll until the execution reaches a final status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.api("GET", f"/api/executions/{execution_id}").json()
            if body["status"] not in ("queued", "running"):
                return body
            time.sleep(0.05)
        raise AssertionError(f"execution {execution_id} did not finish in {timeout}s")


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
    """Stop a process started with stdout=PIPE: `sig`, SIGKILL after `timeout`; its exit code (None: never started)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    return proc.returncode


def _argv_of(entry) -> list[str]:
    return entry["argv"] if isinstance(entry, dict) else entry


@pytest.fixture(autouse=True)
def _close_streams_left_open():
    """Close the SSE streams a test left open: none outlives its test or holds a server's stream slot."""
    yield
    close_open_streams()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One live server shared by tests that only add executions of their own."""
    # Tests here play many people watching at once with one token: the per-user stream limit is raised.
    live = LiveServer(tmp_path_factory.mktemp("server"), sse_heartbeat_seconds=1, max_streams_per_user=500).start()
    yield live
    live.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """Say once, at the end, that the real-Bolt tests were skipped and how to run them."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if REAL_BOLT_MISSING in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} real-Bolt tests skipped: {REAL_BOLT_MISSING}")


@pytest.fixture(scope="session")
def real_bolt() -> str:
    """The real bolt CLI that BOLTDECK_TEST_REAL_BOLT names; without it the test skips (one line).

    Only the setting counts, never a copy that happens to be installed: the same command runs
    the same tests on every machine, and CI (.ci/run) sets it when it installs the real Bolt.
    """
    path = os.environ.get(REAL_BOLT_SETTING, "")
    if not path:
        pytest.skip(REAL_BOLT_MISSING)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{REAL_BOLT_SETTING}={path} is not an executable file")
    return path


@pytest.fixture(scope="session")
def real_bolt_server(real_bolt, tmp_path_factory):
    """One live server shared by tests, running the real Bolt in the scenario project."""
    live = LiveServer(
        tmp_path_factory.mktemp("real-bolt-server"),
        bolt_bin=real_bolt,
        bolt_project=SCENARIO_PROJECT,
        sse_heartbeat_seconds=1,
        max_streams_per_user=500,
    ).start()
    yield live
    live.stop()


@pytest.fixture
def make_server(tmp_path):
    """Start live servers with particular settings; all are stopped after the test."""
    started: list[LiveServer] = []

    def factory(**settings) -> LiveServer:
        extra = settings.pop("extra_env", None)
        live = LiveServer(tmp_path / f"server{len(started)}", extra, **settings)
        live.tmp_path.mkdir(parents=True, exist_ok=True)
        started.append(live.start())
        return live

    yield factory
    for live in started:
        live.stop(signal.SIGKILL)


@pytest.fixture
def app(tmp_path):
    """An in-process app with a fresh SQLite file, wired to the Bolt double."""
    from boltdeck import create_app

    application = create_app(
        {
            "database_url": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            "bolt_bin": str(BOLT_DOUBLE),
            "bolt_project": str(TEST_PROJECT),
            "log_level": "WARNING",
        }
    )
    yield application
    application.extensions["boltdeck"].store.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
