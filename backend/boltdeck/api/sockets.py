"""Socket tuning shared by every response."""

from __future__ import annotations

import socket

import gevent
from flask import request
from gevent.socket import wait_read


def send_without_delay() -> None:
    """Set TCP_NODELAY on the request's socket (gevent's server), so every write leaves at once.

    gevent writes a response's headers and body apart, and with Nagle's algorithm the body of
    every response on a kept-alive connection waited for the client's delayed ACK (~40 ms);
    SSE events written while the previous one is unacknowledged waited the same way. Done as
    a before_request hook so that any gevent server (`boltdeck serve`, wsgi.py) gets it.
    """
    sock = client_socket()
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not a TCP socket (a test client, a Unix socket): nothing to tune
            pass


def client_socket():
    """The request's socket under gevent's server, or None under another server."""
    wsgi_input = request.environ.get("wsgi.input")
    raw = getattr(getattr(wsgi_input, "rfile", wsgi_input), "raw", None)
    return getattr(raw, "_sock", None)


def on_disconnect(callback) -> gevent.Greenlet | None:
    """Call `callback` as soon as the client closes the request's connection; kill the result to stop.

    A streaming response only notices a closed connection when it next writes (up to one
    heartbeat later); this watches the socket for the end-of-file the client's close sends.
    """
    sock = client_socket()
    if sock is None:
        return None

    def watch() -> None:
        try:
            wait_read(sock.fileno())
            if sock.recv(1, socket.MSG_PEEK):
                return  # the client sent data (a pipelined request), not a close
        except OSError:
            pass  # reset or already closed: the client is gone either way
        callback()

    return gevent.spawn(watch)
