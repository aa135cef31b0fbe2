"""Events stored in batches (EventLog.append_batch -> ExecutionStore.append_events) on PostgreSQL."""

from __future__ import annotations

import pytest

from boltdeck.errors import StorageError
from boltdeck.executions.log import EventLog
from boltdeck.storage.store import StoredEvent


def test_append_events_one_and_many_read_back_and_refuse_a_taken_seq(store):
    store.append_events("e1", [StoredEvent(1, "start", None, "{}")])
    store.append_events("e1", [StoredEvent(2, "stdout", "web1", '{"a":1}'), StoredEvent(3, "stderr", "web2", "{}")])
    assert store.read_events("e1") == [
        StoredEvent(1, "start", None, "{}"),
        StoredEvent(2, "stdout", "web1", '{"a":1}'),
        StoredEvent(3, "stderr", "web2", "{}"),
    ]
    with pytest.raises(StorageError):
        store.append_events("e1", [StoredEvent(4, "stdout", None, "{}"), StoredEvent(3, "stdout", None, "{}")])
    assert store.last_seq("e1") == 3  # the batch went in whole or not at all


def test_event_log_batch_is_stored_before_it_is_published(store):
    seen = []
    log = EventLog(store, lambda execution_id, event: seen.append(store.last_seq(execution_id)), "e1")
    log.append_batch([("stdout", {"text": "a\n"}, "web1"), ("stdout", {"text": "b\n"}, "web2")])
    assert seen == [2, 2]
