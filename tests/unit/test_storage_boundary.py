"""The storage boundary (issue 10): database errors leave storage as StorageError, lock waits are
bounded and cooperative, writes that belong together commit together, hashing leaves the loop."""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import gevent
import pytest

from boltdeck.auth.accounts import AccountService
from boltdeck.errors import ConflictError, StorageError
from boltdeck.executions.log import EventLog
from boltdeck.storage import AccountStore, ExecutionStore


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "boundary.sqlite3"


@pytest.fixture
def store(db_path):
    found = ExecutionStore(f"sqlite:///{db_path}", busy_seconds=0.3)
    found.create_execution(_row("e1"), ["localhost"])
    yield found
    found.dispose()


def _row(execution_id: str) -> dict:
    return {
        "id": execution_id,
        "kind": "command",
        "status": "queued",
        "targets": ["localhost"],
        "request": {},
        "timeout_seconds": 60.0,
        "created_at": "2026-01-01T00:00:00.000Z",
    }


@contextmanager
def foreign_write_lock(db_path: Path):
    """Hold the database's write lock from another connection, as another process would."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


class LoopWatch:
    """A greenlet that ticks every 10 ms; `longest_gap` tells how long the event loop was held."""

    def __init__(self):
        self.ticks: list[float] = []
        self._greenlet = gevent.spawn(self._tick)

    def _tick(self) -> None:
        while True:
            self.ticks.append(time.monotonic())
            gevent.sleep(0.01)

    def stop(self) -> float:
        self._greenlet.kill()
        return max((b - a for a, b in zip(self.ticks, self.ticks[1:])), default=float("inf"))


def test_store_write_meeting_a_foreign_lock_raises_storage_error(store, db_path):
    """Bug: when a write met "database is locked", the raw SQLAlchemy error left storage (after
    30 s with the loop frozen), so the caller's `except StorageError` never caught it."""
    with foreign_write_lock(db_path):
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            store.append_event("e1", 1, "start", None, "{}")
    assert caught.value.code == "storage_busy" and caught.value.status == 503
    assert time.monotonic() - started < 2.0  # bounded by busy_seconds (0.3 s), not SQLite's 30 s
    assert store.last_seq("e1") == 0


def test_store_failing_statement_inside_a_write_block_raises_storage_error(store):
    """Bug: `_Transaction.__exit__` re-raised the raw SQLAlchemy error when the block itself raised."""
    store.append_event("e1", 1, "start", None, "{}")
    with pytest.raises(StorageError) as caught:
        store.append_event("e1", 1, "start", None, "{}")  # the same seq twice: a primary-key violation
    assert caught.value.code == "conflict"
    store.append_event("e1", 2, "status", None, "{}")  # the writer connection is still usable
    assert store.last_seq("e1") == 2


def test_store_read_errors_raise_storage_error(store, db_path):
    """Bug: reads used engine.connect() unguarded, so a failing read raised SQLAlchemy's error."""
    with sqlite3.connect(db_path) as other:
        other.execute("DROP TABLE events")
    with pytest.raises(StorageError, match="no such table"):
        store.read_events("e1")
    with pytest.raises(StorageError):
        store.last_seq("e1")
    assert store.get_execution("e1")["status"] == "queued"


def test_store_lock_wait_lets_other_greenlets_run(store, db_path):
    """Bug: SQLite's 30 s busy timeout waited inside the C library, freezing the whole gevent loop
    (one append waited 1.46 s with every request stalled); the wait must be cooperative."""
    store.dispose()
    patient = ExecutionStore(store.url, busy_seconds=5)
    released: list[float] = []
    with foreign_write_lock(db_path) as other:

        def release() -> None:
            other.execute("ROLLBACK")
            released.append(time.monotonic())

        gevent.spawn_later(0.6, release)
        watch = LoopWatch()
        patient.append_event("e1", 1, "start", None, "{}")
        written = time.monotonic()
        longest_gap = watch.stop()
    stored = patient.last_seq("e1")
    patient.dispose()
    assert released and written >= released[0], "the write did not wait for the lock"
    assert longest_gap < 0.2, f"the event loop was held {longest_gap:.2f}s while the write waited"
    assert stored == 1


def test_store_nested_writes_commit_together_or_not_at_all(store):
    """The row and an execution's last events are written in one transaction, or none of them."""
    with pytest.raises(RuntimeError):
        with store.write():
            store.update_execution("e1", status="running")
            store.append_event("e1", 1, "status", None, "{}")
            raise RuntimeError("fails before the commit")
    assert store.get_execution("e1")["status"] == "queued" and store.last_seq("e1") == 0
    with store.write():
        store.update_execution("e1", status="running")
        store.append_event("e1", 1, "status", None, "{}")
    assert store.get_execution("e1")["status"] == "running" and store.last_seq("e1") == 1


def test_event_log_append_all_keeps_seq_when_the_store_refuses(store, db_path):
    """A refused batch stores nothing, publishes nothing and uses up no seq; an announced event
    reaches subscribers without being stored."""
    published = []
    log = EventLog(store, lambda _id, event: published.append(event), "e1", next_seq=1)
    with foreign_write_lock(db_path):
        with pytest.raises(StorageError):
            log.append_all([("status", {"status": "failed"}), ("complete", {})], lambda: None)
        announced = log.announce("complete", {"status": "failed", "recorded": False})
    assert published == [announced] and announced.seq == 1
    assert store.last_seq("e1") == 0
    stored = log.append_all([("status", {}), ("complete", {})], lambda: store.update_execution("e1", status="failed"))
    assert [e.seq for e in stored] == [1, 2] and store.last_seq("e1") == 2
    assert store.get_execution("e1")["status"] == "failed"


def test_accounts_password_check_runs_off_the_event_loop(store):
    """Bug: argon2 hashing ran on the event loop (~0.3-0.5 s per login, and anyone can ask for a
    login), freezing every other request meanwhile."""
    accounts = AccountService(AccountStore(store), session_hours=1)
    accounts.create_user("alice", "admin", "a long enough password")
    watch = LoopWatch()
    started = time.monotonic()
    assert accounts.verify("alice", "a long enough password")["name"] == "alice"
    assert accounts.verify("nobody", "a long enough password") is None
    took = time.monotonic() - started
    longest_gap = watch.stop()
    assert longest_gap < min(0.2, took / 3), f"the loop was held {longest_gap:.2f}s of {took:.2f}s of hashing"


def test_accounts_duplicate_user_is_a_conflict(store):
    """Creating a user that exists is a clear 409 naming the user, not a database error (the
    duplicate key no longer surfaces as IntegrityError, which the store used to catch)."""
    accounts = AccountService(AccountStore(store), session_hours=1)
    accounts.create_user("alice", "admin", "a long enough password")
    with pytest.raises(ConflictError) as caught:
        accounts.create_user("alice", "viewer", "another long password")
    assert caught.value.code == "user_exists" and caught.value.status == 409
