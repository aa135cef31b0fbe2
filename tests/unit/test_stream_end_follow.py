"""follow() always ends (issue 10): resume past `complete`, ids past the log, stop from a disconnect."""

from __future__ import annotations

from itertools import islice

import gevent
import pytest

from boltdeck.errors import ValidationError
from boltdeck.executions.log import EventLog
from boltdeck.storage.store import StoredEvent
from boltdeck.streaming import HEARTBEAT

ALL = frozenset({"start", "stdout", "complete"})


def _log(manager) -> EventLog:
    return EventLog(manager.store, manager.publish, "e1")


def _waiting(manager, follower) -> tuple[gevent.Greenlet, list]:
    """Consume `follower` in a greenlet; return it once the follower waits for live events."""
    received: list = []
    reader = gevent.spawn(lambda: received.extend(item for item in follower if item is not HEARTBEAT))
    gevent.sleep(0.01)
    assert manager.broker.subscriber_count("e1") == 1
    return reader, received


def test_follow_resumed_at_or_past_complete_ends_at_once(manager):
    """Bug: a resume at or past `complete` of an ended log got heartbeats forever."""
    log = _log(manager)
    log.append("start", {})
    log.append("complete", {})
    for after in (2, 9):
        assert manager.log_ended_by("e1", after)
        assert list(islice(manager.follow("e1", after, "test", ALL), 3)) == []  # not three heartbeats
    assert manager.broker.subscriber_count("e1") == 0
    assert manager.snapshot()["subscribers"]["total"] == 0
    assert not manager.log_ended_by("e1", 1)


def test_follow_refuses_an_after_past_the_end_of_a_growing_log(manager):
    """Bug: an `after` beyond the log of a running execution silently skipped `complete`."""
    _log(manager).append("start", {})
    with pytest.raises(ValidationError) as refused:
        manager.log_ended_by("e1", 5, field="Last-Event-ID")
    assert refused.value.details["lastSeq"] == 1 and "Last-Event-ID" in refused.value.message
    with pytest.raises(ValidationError):
        next(manager.follow("e1", 5, "test", ALL))
    assert manager.broker.subscriber_count("e1") == 0
    assert manager.log_ended_by("e1", 1) is False  # at the end of a growing log: follow it


def test_follow_stop_from_an_event_loop_callback_ends_it_at_once(manager):
    """Bug: a disconnected subscriber stayed subscribed until its next heartbeat (here 60 s)."""
    manager.heartbeat_seconds = 60
    _log(manager).append("start", {})
    follower = manager.follow("e1", 0, "test", ALL)
    reader, received = _waiting(manager, follower)
    gevent.get_hub().loop.run_callback(follower.stop)  # where a disconnect watcher calls it
    reader.join(timeout=1)
    assert reader.dead and [e.seq for e in received] == [1]
    assert manager.broker.subscriber_count("e1") == 0
    assert manager.snapshot()["subscribers"]["total"] == 0


def test_follow_stopped_before_it_starts_never_subscribes(manager):
    follower = manager.follow("e1", 0, "test", ALL)
    follower.stop()
    assert list(follower) == [] and manager.broker.subscriber_count("e1") == 0


def test_broker_close_wakes_a_waiting_get(manager):
    subscription = manager.broker.subscribe("e1", 3)
    waiter = gevent.spawn(subscription.get, 60)
    gevent.sleep(0.01)
    subscription.close()
    assert waiter.get(timeout=1) == ([], False)


@pytest.mark.parametrize("stored_before", [0, 5], ids=["after-a-gap", "after-an-overflow"])
def test_follow_ends_on_a_complete_that_could_only_be_published(manager, stored_before):
    """A `complete` published when the store could not keep it (the end of an execution is
    published whatever the store says) must end followers: the re-read after a gap or an
    overflow used to replace the queued events with the store's, dropping it."""
    manager.heartbeat_seconds = 60
    log = _log(manager)
    log.append("start", {})
    follower = manager.follow("e1", 0, "test", ALL)
    reader, received = _waiting(manager, follower)
    for _ in range(stored_before):  # more than the queue (3) holds: an overflow
        log.append("stdout", {"text": "x"})
    seq = 2 + stored_before + 1  # one event lost on the way: a gap
    manager.publish("e1", StoredEvent(seq, "complete", None, "{}"))
    reader.join(timeout=1)
    assert reader.dead and received[-1].type == "complete"
    assert manager.broker.subscriber_count("e1") == 0
