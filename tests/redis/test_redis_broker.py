"""RedisBroker between real processes (each patched by gevent, as servers are) and a real redis-server."""

from __future__ import annotations

import time

from .conftest import wait_listening

ALL_OF_A_RUN = lambda count: list(range(1, count + 3))  # noqa: E731 - start, `count` lines, complete


def test_redis_broker_delivers_across_processes_in_order_and_own_messages_once(peers, redis_server):
    a, b = peers("a"), peers("b")
    wait_listening(redis_server, 2)
    for peer in (a, b):
        peer.send("watch", id="e1")
        peer.expect("watching")
    a.send("listen", topic="barrier")
    a.expect("listening")
    a.send("run", id="e1", count=50, interval=0.002)
    a.expect("ran", timeout=20)
    b.expect("delivered", seq=52)
    # B's notice reaches A after A's own messages came back to A (one Redis connection keeps
    # publish order), so any doubling of A's own events would be in A's record by then
    b.send("notify", topic="barrier", message={})
    a.expect("notice", "barrier")
    for peer in (a, b):
        peer.send("report", id="e1")
        report = peer.expect("report")
        assert report["seqs"] == ALL_OF_A_RUN(50), peer.name
        assert report["rereads"] == 0, peer.name


def test_redis_broker_notices_reach_every_process_once(peers, redis_server):
    a, b = peers("a"), peers("b")
    wait_listening(redis_server, 2)
    for peer in (a, b):
        for topic in ("cancel", "work"):
            peer.send("listen", topic=topic)
            peer.expect("listening", topic)
    a.send("notify", topic="cancel", message={"executionId": "e7"})
    assert a.expect("notice", "cancel")["message"] == {"executionId": "e7"}
    assert b.expect("notice", "cancel")["message"] == {"executionId": "e7"}
    b.send("notify", topic="work", message={})
    a.expect("notice", "work")  # after A's own `cancel` had time to come back to A
    b.expect("notice", "work")
    assert a.replies("notice") == [] and b.replies("notice") == []  # nothing twice


def test_redis_broker_restart_mid_stream_loses_reorders_and_doubles_nothing(peers, redis_server):
    """Redis is SIGKILLed while B follows A's execution and comes back empty on the same port;
    B's heartbeat is 60 s, so only the broker's reconnect (and the gap re-read) can catch up."""
    a, b = peers("a"), peers("b")
    wait_listening(redis_server, 2)
    b.send("follow", id="e1")
    b.expect("following")
    a.send("run", id="e1", count=300, interval=0.01)
    b.expect("event", seq=30)
    redis_server.kill()
    time.sleep(0.5)  # A publishes into the void meanwhile, and must not notice
    redis_server.start()
    last = a.expect("ran", timeout=30)["last"]
    assert b.expect("ended", timeout=10)["seqs"] == list(range(1, last + 1))
    warnings = a.log().count("cannot publish to Redis")
    assert 1 <= warnings <= 2, a.log()  # said, and rate-limited


def test_redis_broker_reconnect_makes_subscribers_reread_the_store(peers, redis_server):
    """Everything, `complete` included, is stored and published while Redis is down: no gap,
    no later event and a 60 s heartbeat, so only the re-read on reconnecting ends B's stream."""
    a, b = peers("a"), peers("b")
    wait_listening(redis_server, 2)
    b.send("follow", id="e2")
    b.expect("following")
    a.send("append", id="e2", type="start", data={})
    b.expect("event", seq=1)
    redis_server.kill()
    a.send("append", id="e2", type="stdout", data={"text": "while Redis is down\n"})
    a.expect("appended", 2)
    a.send("append", id="e2", type="complete", data={})
    a.expect("appended", 3)
    time.sleep(0.3)
    assert b.replies("ended") == []
    restarted = time.monotonic()
    redis_server.start()
    assert b.expect("ended", timeout=10)["seqs"] == [1, 2, 3]
    assert time.monotonic() - restarted < 3  # the listener's backoff is at most 1 s


def test_redis_broker_lost_message_is_recovered_by_the_idle_recheck(peers, redis_server):
    """Bug: a `complete` whose message was lost left B's stream open for good (heartbeats only)."""
    a, b = peers("a"), peers("b", heartbeat=0.3)
    wait_listening(redis_server, 2)
    b.send("follow", id="e3")
    b.expect("following")
    a.send("append", id="e3", type="start", data={})
    b.expect("event", seq=1)
    stored = time.monotonic()
    a.send("store_only", id="e3", type="complete")
    assert b.expect("ended", timeout=5)["seqs"] == [1, 2]
    assert time.monotonic() - stored < 2  # about one heartbeat


def test_redis_broker_too_large_event_travels_as_a_wakeup(peers, redis_server):
    a, b = peers("a"), peers("b")
    wait_listening(redis_server, 2)
    b.send("follow", id="e4")
    b.expect("following")
    a.send("append", id="e4", type="stdout", data={"text": "x" * 300_000})
    assert b.expect("event", seq=1, timeout=5)["size"] > 300_000  # read from the store, not 60 s later
    a.send("append", id="e4", type="complete", data={})
    assert b.expect("ended")["seqs"] == [1, 2]
