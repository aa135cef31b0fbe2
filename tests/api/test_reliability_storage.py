"""Issue 10, storage and the event loop, against live servers and the real CLI: every execution
ends for its followers even when the store refuses the end, nothing stalls the event loop, and
management commands never migrate or analyse a database a server may be using."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from boltdeck.storage.schema import CURRENT_VERSION

from ..conftest import ADMIN, ADMIN_PASSWORD, boltdeck_cli, server_env
from ..pg import foreign_write_lock, sqlite_only
from ..streaming.sse_client import SSEStream
from .helpers import events_of, processes_of, wait_until


def _db_path(env: dict[str, str]) -> Path:
    return Path(env["BOLTDECK_DATABASE_URL"].removeprefix("sqlite:///"))


def _start(live, command: str, **extra) -> str:
    response = live.run("/api/commands", {"targets": ["localhost"], "command": command, **extra})
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _follow(stream: SSEStream, until: str, seconds: float) -> list[dict]:
    """The events a follower receives until one of type `until`, or until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    events = []
    for frame in stream.frames():  # heartbeats too, so the deadline is checked while idle
        if frame.event is not None:
            events.append(frame.json)
            if frame.event == until:
                break
        if time.monotonic() > deadline:
            break
    return events


def _timed_health(live) -> float:
    """Seconds a stranger's GET /api/health takes (it reads the database, writes nothing)."""
    started = time.monotonic()
    response = requests.get(live.url + "/api/health", timeout=30)
    assert response.status_code == 200
    return time.monotonic() - started


def test_end_refused_by_the_store_still_ends_every_stream_and_is_recovered(make_server):
    """Bug: when the final write met "database is locked", a raw SQLAlchemy error escaped `_finish`,
    no `complete` was written or published, followers got heartbeats forever and the run greenlet
    died. Now the end is tried a few times, `complete` reaches followers anyway (marked
    `recorded: false`), the row stays `running`, and the next start recovers it."""
    live = make_server(database_busy_seconds=0.3, sse_heartbeat_seconds=1)
    execution_id = _start(live, "sleep 60", timeoutSeconds=3)
    assert wait_until(lambda: processes_of(execution_id), 10), "bolt never started"
    follower = SSEStream(f"{live.url}/api/executions/{execution_id}/stream", headers=live.auth, timeout=20)
    try:
        with foreign_write_lock(live.env["BOLTDECK_DATABASE_URL"]):  # held through the timeout and the whole end
            events = _follow(follower, until="complete", seconds=15)
            assert live.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
    finally:
        follower.close()
    assert events[-1]["type"] == "complete", f"no `complete` within 15 s; got {[e['type'] for e in events]}"
    assert events[-1]["data"]["status"] == "timed_out" and events[-1]["data"]["recorded"] is False
    assert "its end is not stored" in (live.tmp_path / "server.log").read_text()

    assert live.stop(signal.SIGTERM) == 0
    live.start()
    assert live.api("GET", f"/api/executions/{execution_id}").json()["status"] == "interrupted"
    stored = events_of(live, execution_id)
    assert [e["type"] for e in stored].count("complete") == 1
    assert stored[-1]["type"] == "complete" and stored[-1]["data"]["status"] == "interrupted"


def test_server_answers_while_another_process_holds_the_database_lock(make_server):
    """Bug: SQLite's busy timeout (30 s) waited inside the C library, on the event loop: while
    another process held the lock, one event append froze every request (1.46 s measured).
    Now the wait is cooperative: health answers at once, and no output is lost."""
    live = make_server()
    _timed_health(live)  # Bolt's version is cached now: health does no more than read the database
    command = "for i in $(seq 1 60); do echo line-$i; sleep 0.05; done"
    execution_id = _start(live, command, expertMode=True)
    assert wait_until(lambda: any(e["type"] == "stdout" for e in events_of(live, execution_id)), 10)
    with foreign_write_lock(live.env["BOLTDECK_DATABASE_URL"]):
        time.sleep(0.3)  # an append is waiting for the lock by now
        slowest = max(_timed_health(live) for _ in range(5))
        time.sleep(0.5)
    assert slowest < 0.5, f"/api/health took {slowest:.2f}s while another process held the lock"
    assert live.wait_final(execution_id)["status"] == "success"
    text = "".join(e["data"]["text"] for e in events_of(live, execution_id) if e["type"] == "stdout")
    assert text.split() == [f"line-{i}" for i in range(1, 61)]


def test_server_answers_while_logins_hash_passwords(make_server):
    """Bug: argon2 hashing ran on the event loop (~0.3-0.5 s per login, and anyone may try a
    login), so every other request waited for it."""
    live = make_server()
    _timed_health(live)  # Bolt's version is cached now: health does no more than read the database
    durations: list[float] = []

    def log_in() -> None:
        started = time.monotonic()
        body = {"username": ADMIN, "password": ADMIN_PASSWORD}
        assert requests.post(live.url + "/api/auth/login", json=body, timeout=60).status_code == 200
        durations.append(time.monotonic() - started)

    logins = [threading.Thread(target=log_in) for _ in range(4)]
    for login in logins:
        login.start()
    time.sleep(0.1)  # the logins are hashing now
    slowest = max(_timed_health(live) for _ in range(3))
    for login in logins:
        login.join()
    assert len(durations) == 4
    assert slowest < min(0.3, min(durations) / 2), f"/api/health took {slowest:.2f}s during logins {durations}"


# ----------------------------------------------------------------------------- the CLI

# Schema version 1 as it was first released; later versions migrate from it.
VERSION_1 = """
CREATE TABLE executions (
    id VARCHAR(32) PRIMARY KEY, kind VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL,
    targets TEXT NOT NULL, request TEXT NOT NULL, expert_mode BOOLEAN NOT NULL, command_line TEXT,
    parent_id VARCHAR(32), rerun_scope VARCHAR(8), timeout_seconds FLOAT NOT NULL,
    created_at VARCHAR(32) NOT NULL, started_at VARCHAR(32), finished_at VARCHAR(32),
    exit_code INTEGER, duration_ms INTEGER, summary TEXT, error TEXT);
CREATE TABLE execution_targets (
    execution_id VARCHAR(32) NOT NULL, target VARCHAR(255) NOT NULL, PRIMARY KEY (execution_id, target));
CREATE TABLE events (
    execution_id VARCHAR(32) NOT NULL, seq INTEGER NOT NULL, type VARCHAR(16) NOT NULL,
    target VARCHAR(255), body TEXT NOT NULL, PRIMARY KEY (execution_id, seq));
CREATE TABLE results (
    execution_id VARCHAR(32) NOT NULL, target VARCHAR(255) NOT NULL, status VARCHAR(16) NOT NULL,
    exit_code INTEGER, stdout TEXT, stderr TEXT, value TEXT, error TEXT, PRIMARY KEY (execution_id, target));
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
"""


def _tables(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _version(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT version FROM schema_version").fetchone()[0]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "boltdeck", *args], env=env, capture_output=True, text=True)


@sqlite_only("builds a version 1 SQLite file, looks for sqlite_stat1 (tests/postgres covers PostgreSQL)")
def test_cli_refuses_an_outdated_database_until_db_upgrade(tmp_path):
    """Bug: `boltdeck users`/`tokens` migrated whatever database they met, possibly one a live
    server was using. Now they refuse an outdated one and say to run `boltdeck db upgrade`."""
    env = server_env(tmp_path)
    db_path = _db_path(env)
    with sqlite3.connect(db_path) as db:
        db.executescript(VERSION_1)
    for args in (("users", "list"), ("tokens", "list")):
        refused = _cli(env, *args)
        assert refused.returncode == 1
        assert "boltdeck db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    assert _version(db_path) == 1 and "users" not in _tables(db_path)

    upgraded = _cli(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema version {CURRENT_VERSION}" in upgraded.stdout
    assert _version(db_path) == CURRENT_VERSION and "sqlite_stat1" in _tables(db_path)
    boltdeck_cli(env, "users", "create", "alice", "--role", "admin", stdin="a long enough password\n")
    assert "alice\tadmin" in boltdeck_cli(env, "users", "list")


@sqlite_only("ANALYZE statistics (sqlite_stat1) are SQLite's; PostgreSQL keeps its own")
def test_cli_commands_never_analyze_the_database(tmp_path):
    """Bug: every `boltdeck users`/`tokens` command ran ANALYZE, which takes the database's write
    lock, against the live database. A fresh install still gets its schema from the first one."""
    env = server_env(tmp_path)
    db_path = _db_path(env)
    printed = boltdeck_cli(env, "users", "bootstrap")
    assert "Password:" in printed
    boltdeck_cli(env, "tokens", "create", "--user", "admin")
    boltdeck_cli(env, "users", "list")
    assert _version(db_path) == CURRENT_VERSION
    assert "sqlite_stat1" not in _tables(db_path)
