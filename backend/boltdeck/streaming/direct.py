"""SocketSink: a caught-up subscriber's events written to its socket by whoever publishes them.

With 1,000 subscribers on one execution, waking 1,000 greenlets for every event (each with its
own heartbeat timer, generator chain and the WSGI server's write path) cost 34–43 µs of CPU per
delivery. A subscriber that has caught up instead lends its socket to the broker: the publish
loop sends the event's bytes, encoded once for everyone, with one non-blocking `send()` per
subscriber (~10 µs in all, most of it the kernel's), and the subscriber's greenlet sleeps until
something needs it: the socket did not take a whole frame, an event is missing, `complete`
went out, its heartbeat is due. The greenlet then writes what the socket did not take and
goes on along the ordinary path.

Only the greenlet that owns the response writes while the sink is detached, and the broker
only while it is attached (see `_QueueSubscription.get`), so their writes never interleave.
The broker sends to all of an execution's attached sinks in one loop, `fan_out`.
"""

from __future__ import annotations

import socket
from typing import Callable, Collection, Iterable

from ..storage.store import StoredEvent

Encoder = Callable[[StoredEvent], bytes]


class SocketSink:
    """The socket of one subscriber and how its events look on the wire.

    `sock` is the cooperative (gevent) socket of the response, `encode` gives an event's
    bytes exactly as the server would have written them (its transfer framing included),
    and `types` are the event types this subscriber is shown.
    """

    def __init__(self, sock: socket.socket, encode: Encoder, types: Collection[str]):
        self._sock = sock
        self.send = getattr(sock, "_sock", sock).send  # the OS socket's: never waits
        self.encode = encode
        self.types = types
        self.last = 0  # seq of the last event handed over (sent, or partly sent with the rest pending)
        self.pending = b""  # the part of a frame the socket did not take
        self.ended = False  # `complete` was handed over
        self.broken = False  # the socket failed: the client is gone

    def finish(self) -> bool:
        """Write what the socket did not take, waiting cooperatively; False when the client is gone."""
        if self.pending and not self.broken:
            pending, self.pending = self.pending, b""
            try:
                self._sock.sendall(pending)
            except OSError:
                self.broken = True
        return not self.broken


def fan_out(sinks: Iterable[SocketSink], event: StoredEvent) -> list[SocketSink]:
    """Send one event to every sink, one non-blocking send() each; return the sinks that need their reader.

    The event is encoded once per framing. A sink needs its reader when the event is not the
    next one it expects (a seq gap: the reader re-reads the store), when its socket took only
    part of the frame, or none (the rest waits in `pending`), when the socket failed, and
    after `complete`. The loop is the whole per-subscriber cost of a live event: keep it bare.
    """
    seq, kind = event.seq, event.type
    previous, ending = seq - 1, kind == "complete"
    frames: dict[Encoder, bytes] = {}
    stalled = []
    for sink in sinks:
        if sink.last != previous:
            if seq > sink.last:
                stalled.append(sink)  # a gap; an event it had already (seq <= last) is just skipped
            continue
        if kind in sink.types:
            frame = frames.get(sink.encode)
            if frame is None:
                frame = frames[sink.encode] = sink.encode(event)
            try:
                sent = sink.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                sink.broken = True
                stalled.append(sink)
                continue
            if sent != len(frame):
                sink.pending = frame[sent:]
                sink.last = seq
                stalled.append(sink)
                continue
        sink.last = seq
        if ending:
            sink.ended = True
            stalled.append(sink)
    return stalled
