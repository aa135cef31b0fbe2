"""SQLite's write-ahead log is copied back by the checkpointer's native thread, not inside a commit."""

from __future__ import annotations

import os
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
    wal = tmp_path / "boltdeck.db-wal"
    append(store, "e1", 1, 3, MIB)  # under the limit: no checkpoint yet
    assert checkpointer.checkpoints == 0 and not checkpointer.running
    append(store, "e1", 4, 20, MIB)
    wait_for(lambda: checkpointer.checkpoints >= 1 and not checkpointer._busy, "no checkpoint after 23 MiB of log")
    done = checkpointer.checkpoints
    append(store, "e1", 24, 1, 1000)  # the log is still past the limit: its end is copied too
    wait_for(lambda: checkpointer.checkpoints > done and not checkpointer._busy, "the log's end was not checkpointed")
    assert os.path.getsize(tmp_path / "boltdeck.db") > 20 * MIB  # the pages are in the database itself
    append(store, "e1", 25, 1, 1000)  # the next write starts the log over, and cuts it back to the limit
    assert os.path.getsize(wal) <= WAL_CHECKPOINT_BYTES
    events = store.read_events("e1", after=0, limit=100)
    assert [e.seq for e in events] == list(range(1, 26)) and len(events[5].body) == MIB + 12


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
