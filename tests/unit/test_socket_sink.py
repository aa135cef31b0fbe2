"""Live events written to a caught-up follower's socket by the publisher (streaming/direct.py), on real sockets."""

from __future__ import annotations

import re
import socket

import gevent
import gevent.socket

from boltdeck.executions.log import EventLog
from boltdeck.storage.store import StoredEvent
from boltdeck.streaming import HEARTBEAT
from boltdeck.streaming.direct import SocketSink
from boltdeck.streaming.sse import encode_event

ALL = frozenset({"start", "stdout", "complete"})
FRAME_ID = re.compile(rb"^id: (\d+)$", re.M)


def _encode(event: StoredEvent) -> bytes:
    return encode_event(event.seq, event.type, event.body)


class Viewer:
    """A follower with a sink on one end of a socket pair, consumed like the SSE body does it."""

    def __init__(self, manager, types=ALL, send_buffer: int | None = None):
        self.server_end, self.client_end = gevent.socket.socketpair()
        if send_buffer:
            self.server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self.sink = SocketSink(self.server_end, _encode, types)
        self.follower = manager.follow("e1", 0, "test", types, sink=self.sink)
        self.yielded: list = []
        self.greenlet = gevent.spawn(self._consume)

    def _consume(self) -> None:
        for item in self.follower:
            self.yielded.append(item)
            if item is not HEARTBEAT:
                self.server_end.sendall(_encode(item))
        self.server_end.shutdown(socket.SHUT_WR)

    def received(self, timeout: float = 5) -> bytes:
        """Everything the client end gets until the follower ends its side."""
        data = bytearray()
        with gevent.Timeout(timeout):
            while chunk := self.client_end.recv(65536):
                data += chunk
        return bytes(data)

    def close(self) -> None:
        self.greenlet.kill()
        self.server_end.close()
        self.client_end.close()


def _ids(data: bytes) -> list[int]:
    return [int(i) for i in FRAME_ID.findall(data)]


def test_sink_sends_live_events_without_waking_the_follower(manager):
    manager.heartbeat_seconds = 60
    log = EventLog(manager.store, manager.publish, "e1")
    log.append("start", {})
    viewer = Viewer(manager)
    try:
        gevent.sleep(0.01)
        assert [e.seq for e in viewer.yielded] == [1]  # replayed through the follower; now caught up
        for i in range(5):
            log.append("stdout", {"text": f"{i}\n"})
        assert [e.seq for e in viewer.yielded] == [1]  # the five went out without the follower
        log.append("complete", {})
        data = viewer.received()
        assert _ids(data) == [1, 2, 3, 4, 5, 6, 7]
        assert data.endswith(_encode(manager.store.read_events("e1")[-1]))
        viewer.greenlet.join(2)
        assert viewer.greenlet.dead and [e.seq for e in viewer.yielded] == [1]
        assert manager.broker.subscriber_count("e1") == 0
    finally:
        viewer.close()


def test_sink_skips_types_the_subscriber_is_not_shown(manager):
    log = EventLog(manager.store, manager.publish, "e1")
    viewer = Viewer(manager, types=frozenset({"complete"}))
    try:
        gevent.sleep(0.01)
        log.append("start", {})
        log.append("stdout", {"text": "hidden\n"})
        log.append("complete", {})
        assert _ids(viewer.received()) == [3]
    finally:
        viewer.close()


def test_sink_on_a_full_socket_hands_over_to_the_follower_and_loses_nothing(manager):
    """A client that does not read: the socket fills, the follower writes the rest of the cut
    frame and catches up from its queue and the store (queues hold 3 events here)."""
    manager.heartbeat_seconds = 60
    log = EventLog(manager.store, manager.publish, "e1")
    log.append("start", {})
    viewer = Viewer(manager, send_buffer=4096)
    try:
        gevent.sleep(0.01)
        for i in range(300):
            log.append("stdout", {"text": f"{i:04d} " + "x" * 2000 + "\n"})
        log.append("complete", {})
        data = viewer.received(timeout=20)  # reads only now
        assert _ids(data) == list(range(1, 303))
        assert b"0299 xxx" in data and len(viewer.yielded) > 1  # the follower took over on the way
        assert manager.stats.rereads >= 1
    finally:
        viewer.close()


def test_sink_seq_gap_makes_the_follower_reread_the_store(manager):
    """An event missing on the way (a message lost between processes) is read from the store."""
    log = EventLog(manager.store, manager.publish, "e1")
    log.append("start", {})
    viewer = Viewer(manager)
    try:
        gevent.sleep(0.01)
        manager.store.append_event("e1", 2, "stdout", None, '{"lost":true}')  # stored, never published
        manager.store.append_event("e1", 3, "complete", None, "{}")
        manager.publish("e1", StoredEvent(3, "complete", None, "{}"))
        assert _ids(viewer.received()) == [1, 2, 3]
        assert [e.seq for e in viewer.yielded] == [1, 2, 3]  # the follower wrote the ones after the gap
    finally:
        viewer.close()


def test_sink_follower_still_gets_heartbeats_while_events_flow(manager):
    """The follower wakes every idle interval (its credential is re-checked then), sink or not."""
    log = EventLog(manager.store, manager.publish, "e1")
    log.append("start", {})
    viewer = Viewer(manager)
    try:
        for i in range(6):
            gevent.sleep(0.03)
            log.append("stdout", {"text": f"{i}\n"})
        assert HEARTBEAT in viewer.yielded
        log.append("complete", {})
        assert _ids(viewer.received()) == list(range(1, 9))
    finally:
        viewer.close()


def test_sink_client_gone_ends_the_follower(manager):
    log = EventLog(manager.store, manager.publish, "e1")
    log.append("start", {})
    viewer = Viewer(manager)
    try:
        gevent.sleep(0.01)
        viewer.client_end.close()
        log.append("stdout", {"text": "nobody reads this\n"})
        viewer.greenlet.join(2)
        assert viewer.sink.broken and viewer.greenlet.dead
        assert manager.broker.subscriber_count("e1") == 0
    finally:
        viewer.close()
