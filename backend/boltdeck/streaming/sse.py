"""Server-Sent Events encoding: pure functions from events to bytes."""

from __future__ import annotations

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store, no-transform",  # no-transform: proxies must not compress (buffer) it
    "X-Accel-Buffering": "no",
    "Connection": "keep-alive",
}


def encode_event(seq: int, event_type: str, data: str) -> bytes:
    """One SSE frame; every line of data (split on \\r\\n, \\r or \\n) gets its own `data:` field."""
    if "\n" not in data and "\r" not in data:  # any JSON text: one field, no splitting (events reach 64 KiB and more)
        return b"id: %d\nevent: %b\ndata: %b\n\n" % (seq, event_type.encode(), data.encode("utf-8"))
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "".join(f"data: {line}\n" for line in lines)
    return f"id: {seq}\nevent: {event_type}\n{body}\n".encode("utf-8")


def encode_chunk(data: bytes) -> bytes:
    """`data` as one chunk of an HTTP/1.1 chunked body, as gevent's server writes what a response yields."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def encode_event_chunk(seq: int, event_type: str, data: str) -> bytes:
    """`encode_chunk(encode_event(...))` in one step: a 50 MB result is copied once less (~45 ms)."""
    if "\n" in data or "\r" in data:
        return encode_chunk(encode_event(seq, event_type, data))
    head = b"id: %d\nevent: %b\ndata: " % (seq, event_type.encode())
    body = data.encode("utf-8")
    return b"%x\r\n%b%b\n\n\r\n" % (len(head) + len(body) + 2, head, body)


def encode_comment(text: str = "ping") -> bytes:
    return f": {text}\n\n".encode("utf-8")


def encode_retry(milliseconds: int) -> bytes:
    return f"retry: {int(milliseconds)}\n\n".encode("utf-8")
