"""Socket tuning shared by every response."""

from __future__ import annotations

import socket

from flask import request


def send_without_delay() -> None:
    """Set TCP_NODELAY on the request's socket (gevent's server), so every write leaves at once.

    gevent writes a response's headers and body apart, and with Nagle's algorithm the body of
    every response on a kept-alive connection waited for the client's delayed ACK (~40 ms);
    SSE events written while the previous one is unacknowledged waited the same way. Done as
    a before_request hook so that any gevent server (`boltdeck serve`, wsgi.py) gets it.
    """
    wsgi_input = request.environ.get("wsgi.input")
    raw = getattr(getattr(wsgi_input, "rfile", wsgi_input), "raw", None)
    sock = getattr(raw, "_sock", None)
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not a TCP socket (a test client, a Unix socket): nothing to tune
            pass
