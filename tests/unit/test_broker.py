"""The manager's follow(): replay, live, overflow re-read, unsubscribe on close."""

from __future__ import annotations

import gevent

from boltdeck.executions.log import EventLog
from boltdeck.streaming import HEARTBEAT

ALL = frozenset({"start", "stdout", "complete"})


def _log(manager):
    return EventLog(manager.store, manager.publish, "e1")


def test_broker_follow_replays_then_follows_live(manager):
    """Bug: this test passed on replay alone; now events 2 and 3 are appended only after the
    follower has replayed event 1 and is waiting, with no heartbeat to wake it, so only the
    broker can deliver them."""
    manager.heartbeat_seconds = 60
    log = _log(manager)
    log.append("start", {})
    received = []

    def consume():
        for item in manager.follow("e1", 0, "test", ALL):
            if item is not HEARTBEAT:
                received.append(item.seq)

    reader = gevent.spawn(consume)
    gevent.sleep(0.01)
    assert received == [1] and manager.broker.subscriber_count("e1") == 1  # replayed, now live
    log.append("stdout", {"text": "x"})
    log.append("complete", {})
    reader.join(timeout=2)
    assert received == [1, 2, 3]
    assert manager.broker.subscriber_count("e1") == 0


def test_broker_slow_subscriber_rereads_from_store(manager):
    log = _log(manager)
    follower = manager.follow("e1", 0, "test", ALL)
    log.append("start", {})
    assert next(follower).seq == 1
    for i in range(10):  # more than the queue holds while the reader is not reading
        log.append("stdout", {"text": str(i)})
    log.append("complete", {})
    seqs = [item.seq for item in follower if item is not HEARTBEAT]
    assert seqs == list(range(2, 13))
    assert manager.stats.rereads >= 1


def test_broker_heartbeat_when_idle_and_close_unsubscribes(manager):
    _log(manager).append("start", {})
    follower = manager.follow("e1", 1, "test", ALL)
    assert next(follower) is HEARTBEAT
    assert manager.broker.subscriber_count("e1") == 1
    follower.close()
    assert manager.broker.subscriber_count("e1") == 0
    assert manager.snapshot()["subscribers"]["total"] == 0
