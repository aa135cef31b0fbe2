"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from boltdeck.storage import ExecutionStore
from boltdeck.streaming import InProcessBroker, StreamingExecutionManager


@pytest.fixture
def manager(tmp_path):
    """A streaming manager on a fresh SQLite store: 50 ms heartbeats, 3-event subscriber queues."""
    store = ExecutionStore(f"sqlite:///{tmp_path / 'streams.sqlite3'}")
    found = StreamingExecutionManager(store, InProcessBroker(), heartbeat_seconds=0.05, queue_size=3)
    yield found
    store.dispose()
