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

ROOT = Path(__file__).resolve().parents[1]
BOLT_DOUBLE = ROOT / "tests" / "bolt_double" / "bolt"
TEST_PROJECT = ROOT / "tests" / "bolt_double" / "project"


def server_env(tmp_path: Path, **settings) -> dict[str, str]:
    """Environment for a Boltdeck process: its own SQLite file, the double, the test project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_")}
    env.update(
        {
            "BOLTDECK_DATABASE_URL": f"sqlite:///{tmp_path / 'boltdeck.sqlite3'}",
            "BOLTDECK_BOLT_BIN": str(BOLT_DOUBLE),
            "BOLTDECK_BOLT_PROJECT": str(TEST_PROJECT),
            "BOLTDECK_LOG_LEVEL": "WARNING",
            "BOLT_DOUBLE_LOG": str(tmp_path / "bolt-invocations.jsonl"),
        }
    )
    env.update({f"BOLTDECK_{k.upper()}": str(v) for k, v in settings.items()})
    return env


class LiveServer:
    """A real `boltdeck serve` process on 127.0.0.1 with an ephemeral port."""

    def __init__(self, tmp_path: Path, extra_env: dict[str, str] | None = None, **settings):
        self.tmp_path = tmp_path
        self.env = server_env(tmp_path, **settings)
        self.env.update(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.url = ""

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
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "boltdeck", "serve", "--host", "127.0.0.1", "--port", "0"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=open(self.tmp_path / "server.log", "ab"),
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
        raise RuntimeError(f"server did not start: {line!r}; log: {(self.tmp_path / 'server.log').read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.url + path, **kwargs)

    def run(self, path: str, body: dict, wait: bool = False) -> requests.Response:
        return self.api("POST", path + ("?wait=true" if wait else ""), json=body, timeout=120)

    def wait_final(self, execution_id: str, timeout: float = 60) -> dict:
        """Poll until the execution reaches a final status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.api("GET", f"/api/executions/{execution_id}").json()
            if body["status"] not in ("queued", "running"):
                return body
            time.sleep(0.05)
        raise AssertionError(f"execution {execution_id} did not finish in {timeout}s")


def _argv_of(entry) -> list[str]:
    return entry["argv"] if isinstance(entry, dict) else entry


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One live server shared by tests that only add executions of their own."""
    live = LiveServer(tmp_path_factory.mktemp("server"), sse_heartbeat_seconds=1).start()
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
