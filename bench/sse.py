"""Many SSE streams in one process: raw non-blocking sockets, one selector, times taken at recv().

Parsing is deferred until a stream is done, so that the client spends as little time as
possible between a byte becoming readable and its arrival time being taken: with 1,000
sockets on a 2-core machine the client's own work would otherwise show up as latency.
"""

from __future__ import annotations

import bisect
import json
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import Iterable

RECV_BYTES = 256 * 1024
CONNECT_BATCH = 100  # below gevent's listen backlog (128), so no SYN is dropped


@dataclass
class Frame:
    """One SSE frame and the wall-clock time (ns) its last byte was received."""

    arrived_ns: int
    id: int | None = None
    event: str | None = None
    data: str | None = None
    comment: str | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.data)


@dataclass
class RawStream:
    """One HTTP response being received; chunks keep (time_ns, bytes) unless keep=False."""

    sock: socket.socket
    keep: bool = True
    chunks: list[tuple[int, bytes]] = field(default_factory=list)
    received: int = 0
    pings: int = 0
    first_ns: int = 0
    last_ns: int = 0
    closed: bool = False
    _head: bytes = b""

    @property
    def answered(self) -> bool:
        """The response head (status line and headers) has arrived."""
        return b"\r\n\r\n" in self._head or self.received > 4096

    def feed(self, data: bytes, now: int) -> None:
        if not self.first_ns:
            self.first_ns = now
        self.last_ns = now
        self.received += len(data)
        if len(self._head) < 4096 and b"\r\n\r\n" not in self._head:
            self._head += data[:4096]
        if self.keep:
            self.chunks.append((now, data))
        else:
            self.pings += data.count(b": ping")

    def frames(self) -> tuple[int, dict[str, str], list[Frame]]:
        return parse_response(self.chunks)


class StreamSet:
    """Open many streams to one server (GETs, or exec-stream POSTs) and pump them with one selector.

    `headers` go with every stream this set opens (the API token); open() may add more.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", headers: dict[str, str] | None = None):
        self.host, self.port = host, port
        self.headers = dict(headers or {})
        self.selector = selectors.DefaultSelector()
        self.streams: list[RawStream] = []

    def open(self, path: str, count: int, keep: bool = True, headers: dict[str, str] | None = None,
             timeout: float = 120.0, method: str = "GET", body: bytes = b"") -> list[RawStream]:
        """Open `count` streams in batches, each batch answered before the next connects."""
        opened: list[RawStream] = []
        deadline = time.monotonic() + timeout
        while len(opened) < count:
            batch = [self._connect(path, keep, headers, method, body) for _ in range(min(CONNECT_BATCH, count - len(opened)))]
            opened += batch
            while not all(s.answered or s.closed for s in batch):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {sum(s.answered for s in opened)} of {count} streams answered")
                self.pump(0.5)
        return opened

    def _connect(self, path: str, keep: bool, headers: dict[str, str] | None, method: str, body: bytes) -> RawStream:
        sock = socket.create_connection((self.host, self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/event-stream",
                 "Connection: close"]  # so that the end of the stream is the end of the connection
        lines += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        sock.setblocking(False)
        stream = RawStream(sock, keep)
        self.selector.register(sock, selectors.EVENT_READ, stream)
        self.streams.append(stream)
        return stream

    def pump(self, timeout: float) -> int:
        """Wait up to `timeout` once; read every ready socket; return how many were read."""
        ready = self.selector.select(timeout)
        for key, _ in ready:
            stream: RawStream = key.data
            try:
                data = stream.sock.recv(RECV_BYTES)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                stream.feed(data, time.time_ns())
            else:
                self._close(stream)
        return len(ready)

    def open_count(self) -> int:
        return sum(not s.closed for s in self.streams)

    def run_until_closed(self, timeout: float) -> bool:
        """Pump until the server has closed every stream; False if the time ran out."""
        deadline = time.monotonic() + timeout
        while self.open_count():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(left, 0.5))
        return True

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.pump(min(left, 0.5))

    def _close(self, stream: RawStream) -> None:
        if not stream.closed:
            stream.closed = True
            self.selector.unregister(stream.sock)
            stream.sock.close()

    def close(self) -> None:
        for stream in self.streams:
            self._close(stream)
        self.selector.close()


def parse_response(chunks: Iterable[tuple[int, bytes]]) -> tuple[int, dict[str, str], list[Frame]]:
    """Decode an HTTP/1.1 response (chunked or not) into SSE frames with arrival times."""
    chunks = list(chunks)
    raw = b"".join(data for _, data in chunks)
    ends, total = [], 0
    for _, data in chunks:
        total += len(data)
        ends.append(total)
    times = [t for t, _ in chunks]
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        return 0, {}, []
    head = raw[:head_end].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body, segments = _dechunk(raw, head_end + 4, headers.get("transfer-encoding") == "chunked")
    seg_starts = [s[0] for s in segments]
    frames: list[Frame] = []
    start = 0
    while (end := body.find(b"\n\n", start)) >= 0:
        last = end + 1  # offset of the frame's last byte in the body
        i = bisect.bisect_right(seg_starts, last) - 1
        raw_offset = segments[i][1] + (last - segments[i][0])
        arrived = times[bisect.bisect_right(ends, raw_offset)]
        frames.append(_parse_frame(body[start:end].decode("utf-8", "replace"), arrived))
        start = end + 2
    return status, headers, frames


def _dechunk(raw: bytes, pos: int, chunked: bool) -> tuple[bytes, list[tuple[int, int]]]:
    """Body bytes and segments (body offset, raw offset) mapping one to the other."""
    if not chunked:
        return raw[pos:], [(0, pos)]
    pieces, segments, body_len = [], [], 0
    while True:
        line_end = raw.find(b"\r\n", pos)
        if line_end < 0:
            break
        size = int(raw[pos:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        start = line_end + 2
        pieces.append(raw[start:start + size])
        segments.append((body_len, start))
        body_len += size
        pos = start + size + 2
    return b"".join(pieces), segments or [(0, pos)]


def _parse_frame(text: str, arrived: int) -> Frame:
    frame = Frame(arrived)
    data = []
    for line in text.split("\n"):
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            frame.comment = value
        elif name == "id":
            frame.id = int(value)
        elif name == "event":
            frame.event = value
        elif name == "data":
            data.append(value)
    if data:
        frame.data = "\n".join(data)
    return frame
