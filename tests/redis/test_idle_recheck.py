"""The manager's idle re-check, with the in-process broker: no Redis needed, the same rule.

A message can be lost only between processes, but the rule lives in the manager: a follower
idle for a whole interval compares the store's last seq with its own and re-reads if behind.
"""

from __future__ import annotations

import gevent

from boltdeck.executions.log import EventLog
from boltdeck.storage import ExecutionStore
from boltdeck.streaming import HEARTBEAT, InProcessBroker, StreamingExecutionManager

ALL = frozenset({"start", "stdout", "complete"})


def test_follow_idle_recheck_reads_events_whose_message_was_lost(tmp_path):
    """Bug: a `complete` stored but never delivered (its message lost) kept the stream open for good."""
    store = ExecutionStore(f"sqlite:///{tmp_path / 'streams.sqlite3'}")
    try:
        manager = StreamingExecutionManager(store, InProcessBroker(), heartbeat_seconds=0.05, queue_size=3)
        EventLog(store, manager.publish, "e1").append("start", {})
        received = []
        reader = gevent.spawn(lambda: received.extend(manager.follow("e1", 0, "test", ALL)))
        gevent.sleep(0.12)  # replayed `start`, then idle: heartbeats
        lost = EventLog(store, lambda *_: None, "e1", next_seq=2)  # stores, publishes nothing
        lost.append("stdout", {"text": "x"})
        lost.append("complete", {})
        reader.join(timeout=1)
        assert reader.dead
        events = [item for item in received if item is not HEARTBEAT]
        assert [e.seq for e in events] == [1, 2, 3] and HEARTBEAT in received
        assert manager.broker.subscriber_count("e1") == 0
    finally:
        store.dispose()
