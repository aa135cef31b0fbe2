"""SQLite's write-ahead log is copied back by the checkpointer's native thread, not inside a commit."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from boltdeck.storage import ExecutionStore
from boltdeck.storage.engine import WAL_CHECKPOINT_BYTES, WalCheckpointer
from boltdeck.storage.store import StoredEvent

MIB = 1024 * 1024


@pytest.fixture
def store(tmp_path):
    store = ExecutionStore(f"sqlite:///{tmp_path / 'boltdeck.db'}")
    yield store
    store.dispose()


def checkpointer_of(store) -> WalCheckpointer:
    with store.engine.connect() as conn:
        return conn.connection.dbapi_connection.checkpointer


def wait_for(predicate, what, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def append(store, execution_id, start, count, size):
    """`count` events of `size` bytes, each in its own commit."""
    body = '{"text": "%s"}' % ("y" * size)
    for seq in range(start, start + count):
        store.append_events(execution_id, [StoredEvent(seq, "stdout", "localhost", body)])


def create(store, execution_id="e1"):
    store.create_execution({"id": execution_id, "kind": "command", "status": "running", "targets": ["localhost"],
                            "request": {}, "timeout_seconds": 60.0, "created_at": "2026-12-02T00:00:00.000Z"},
                           ["localhost"])


def test_connections_leave_checkpoints_to_the_thread(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == WAL_CHECKPOINT_BYTES


def test_a_log_past_the_limit_is_checkpointed_and_cut_back(store, tmp_path):
    create(store)
    checkpointer = checkpointer_of(store)
    db, wal = tmp_path / "boltdeck.db", tmp_path / "boltdeck.db-wal"
    append(store, "e1", 1, 3, MIB)  # under the limit: no checkpoint yet
    assert checkpointer.checkpoints == 0 and not checkpointer.running
    append(store, "e1", 4, 20, MIB)
    wait_for(lambda: checkpointer.checkpoints >= 1, "no checkpoint after 23 MiB of log")
    seq = 23

    def settled():  # small writes go on until the log is all copied, started over and cut back
        nonlocal seq
        if checkpointer._busy:
            return False
        seq += 1
        append(store, "e1", seq, 1, 1000)
        return os.path.getsize(wal) <= WAL_CHECKPOINT_BYTES and os.path.getsize(db) > 20 * MIB

    wait_for(settled, "the log was not copied into the database and cut back")
    assert seq <= 27  # a checkpoint of the rest, then the write that starts the log over
    events = store.read_events("e1", after=0, limit=100)
    assert [e.seq for e in events] == list(range(1, seq + 1)) and len(events[5].body) == MIB + 12


def test_the_thread_ends_with_the_engine(tmp_path):
    store = ExecutionStore(f"sqlite:///{tmp_path / 'boltdeck.db'}")
    create(store)
    checkpointer = checkpointer_of(store)
    append(store, "e1", 1, 6, MIB)
    wait_for(lambda: checkpointer.running, "the checkpointer's thread did not start")
    store.dispose()
    wait_for(lambda: not checkpointer.running, "the checkpointer's thread outlived its engine")
    checkpointer.committed()  # a late commit after the end starts nothing
    assert not checkpointer.running


def test_an_in_memory_database_has_no_checkpointer():
    store = ExecutionStore("sqlite:///:memory:")
    try:
        assert checkpointer_of(store) is None
    finally:
        store.dispose()


def _grow(path, rows):
    """Write `rows` MiB into the log, as another connection of the server would (no automatic checkpoint)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_autocheckpoint=0")
        for _ in range(rows):
            conn.execute("INSERT INTO blobs VALUES (?)", ("y" * MIB,))
    finally:
        conn.close()


def test_a_forked_child_starts_its_own_thread(tmp_path):
    """A checkpointer created before a fork checkpoints in the child too (the parent's thread is not there)."""
    path = str(tmp_path / "forked.db")
    keep_open = sqlite3.connect(path, isolation_level=None)  # else the last close would checkpoint, remove the log
    keep_open.execute("PRAGMA journal_mode=WAL")
    keep_open.execute("CREATE TABLE blobs (body TEXT)")
    checkpointer = WalCheckpointer(path)
    _grow(path, 5)
    checkpointer.committed()
    wait_for(lambda: checkpointer.checkpoints == 1 and not checkpointer._busy, "no checkpoint in the parent")
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return into pytest
        code = 1
        try:
            _grow(path, 6)
            checkpointer.committed()
            wait_for(lambda: checkpointer.checkpoints == 2, "no checkpoint in the child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    keep_open.close()
    checkpointer.stop()
    assert os.waitstatus_to_exitcode(status) == 0
