"""A small SSE client over a raw socket, so tests see exactly when each byte arrives."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Frame:
    """One SSE frame: id/event/data fields, or a comment; with its arrival time."""

    id: int | None = None
    event: str | None = None
    data: str | None = None
    comment: str | None = None
    retry: int | None = None
    arrived: float = field(default_factory=time.time)

    @property
    def json(self) -> dict:
        return json.loads(self.data)


# Streams not yet closed; tests/conftest.py closes what a test left open when it ends.
_OPEN: set["SSEStream"] = set()


def close_open_streams() -> None:
    """Close every stream a test opened and did not close (unclosed sockets warn, and hold server slots)."""
    for stream in list(_OPEN):
        stream.close()


class SSEStream:
    """GET an SSE URL; iterate over frames as they arrive (chunked transfer decoded)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, method: str = "GET", body: bytes = b"",
                 timeout: float = 30, receive_buffer: int | None = None, http_version: str = "1.1"):
        parts = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.file = None
        _OPEN.add(self)
        if receive_buffer:  # before connect, so the TCP window is negotiated for it
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((parts.hostname, parts.port))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {path} HTTP/{http_version}", f"Host: {parts.hostname}:{parts.port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        self.file = self.sock.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.file.readline().decode().strip()):
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._buffer = b""
        self.closed_by_server = False

    def _chunks(self):
        if self.headers.get("transfer-encoding") != "chunked":
            yield from iter(lambda: self.file.read1(65536), b"")
            return
        while True:
            size_line = self.file.readline()
            if not size_line:
                return
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                return
            data = self.file.read(size)
            self.file.readline()
            yield data

    def frames(self):
        """Yield frames until the server closes the stream."""
        for chunk in self._chunks():
            self._buffer += chunk
            while b"\n\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\n\n", 1)
                yield _parse(raw.decode("utf-8"))
        self.closed_by_server = True

    def events(self):
        """Frames that carry events (not comments or retry hints)."""
        return (f for f in self.frames() if f.event is not None)

    def body_json(self) -> dict:
        if "content-length" in self.headers:
            return json.loads(self.file.read(int(self.headers["content-length"])))
        return json.loads(b"".join(self._chunks()))

    def close(self):
        _OPEN.discard(self)
        if self.file is not None:
            self.file.close()  # the socket's descriptor stays open while its file is
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "SSEStream":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _parse(raw: str) -> Frame:
    frame = Frame()
    data_lines = []
    for line in raw.split("\n"):
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            frame.comment = value
        elif name == "id":
            frame.id = int(value)
        elif name == "event":
            frame.event = value
        elif name == "data":
            data_lines.append(value)
        elif name == "retry":
            frame.retry = int(value)
    if data_lines:
        frame.data = "\n".join(data_lines)
    return frame
