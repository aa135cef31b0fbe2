"""The storage boundary on PostgreSQL: its errors leave storage as StorageError with the status
they deserve, waits are bounded, and a store outlives a database restart."""

from __future__ import annotations

import time
from contextlib import ExitStack

import psycopg
import pytest

from boltdeck.errors import StorageError
from boltdeck.storage import ExecutionStore
from boltdeck.storage.engine import POOL_OVERFLOW, POOL_SIZE

from ..pg import admin_sql, with_database


def _row(execution_id: str) -> dict:
    return {
        "id": execution_id,
        "kind": "command",
        "status": "queued",
        "targets": ["web1"],
        "request": {},
        "timeout_seconds": 60.0,
        "created_at": "2026-01-01T00:00:00.000Z",
    }


@pytest.fixture
def patient_store(database_url):
    """A store that waits 0.3 s for a lock or a connection."""
    store = ExecutionStore(database_url, busy_seconds=0.3)
    store.create_execution(_row("e1"), ["web1"])
    yield store
    store.dispose()


def test_a_duplicate_key_is_a_conflict_and_the_writer_goes_on(patient_store):
    patient_store.append_event("e1", 1, "start", None, "{}")
    with pytest.raises(StorageError) as caught:
        patient_store.append_event("e1", 1, "start", None, "{}")  # PostgreSQL aborts the transaction
    assert caught.value.code == "conflict" and caught.value.status == 409
    patient_store.append_event("e1", 2, "status", None, "{}")
    assert patient_store.last_seq("e1") == 2


def test_a_null_in_a_required_column_is_a_storage_error_not_a_conflict(patient_store):
    with pytest.raises(StorageError) as caught:
        patient_store.append_event("e1", 1, "start", None, None)
    assert caught.value.code == "storage_error" and caught.value.status == 500


def test_a_write_meeting_another_transactions_lock_is_busy_after_busy_seconds(patient_store, database_url):
    with psycopg.connect(database_url) as other:  # a transaction: the lock holds until it ends
        other.execute("LOCK TABLE events IN EXCLUSIVE MODE")  # others may read, nobody may write
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            patient_store.append_event("e1", 1, "start", None, "{}")
        waited = time.monotonic() - started
        assert patient_store.read_events("e1") == []  # reads go on meanwhile
        other.rollback()
    assert caught.value.code == "storage_busy" and caught.value.status == 503
    assert 0.25 < waited < 2, f"waited {waited:.2f}s for a lock, with busy_seconds 0.3"
    patient_store.append_event("e1", 1, "start", None, "{}")
    assert patient_store.last_seq("e1") == 1


def test_waiting_for_a_pooled_connection_is_busy_after_busy_seconds(patient_store):
    with ExitStack() as held:
        for _ in range(POOL_SIZE + POOL_OVERFLOW - 1):  # the writer holds one already
            held.enter_context(patient_store.engine.connect())
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            patient_store.get_execution("e1")
        waited = time.monotonic() - started
    assert caught.value.code == "storage_busy" and caught.value.status == 503
    assert 0.25 < waited < 2, f"waited {waited:.2f}s for a connection, with busy_seconds 0.3"
    assert patient_store.get_execution("e1")["id"] == "e1"


def test_a_stopped_server_is_a_storage_error_and_the_store_recovers_when_it_is_back(own_cluster):
    admin_sql(own_cluster.admin_url, "CREATE DATABASE boltdeck")
    store = ExecutionStore(with_database(own_cluster.admin_url, "boltdeck"), busy_seconds=0.3)
    try:
        store.create_execution(_row("e1"), ["web1"])
        store.append_event("e1", 1, "start", None, "{}")
        own_cluster.stop()
        for attempt in (lambda: store.append_event("e1", 2, "status", None, "{}"), lambda: store.last_seq("e1")):
            with pytest.raises(StorageError) as caught:
                attempt()
            assert caught.value.status == 500 and "database error" in caught.value.message
        assert not store.ping()
        own_cluster.start()
        store.append_event("e1", 2, "status", None, "{}")  # a new writer connection
        assert store.last_seq("e1") == 2 and store.ping()  # pooled connections replaced
    finally:
        store.dispose()
