"""Socket tuning shared by every response."""

from __future__ import annotations

import socket

import gevent
from flask import request


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


def on_disconnect(callback):
    """Call `callback` as soon as the client closes the request's connection; `.stop()` the result.

    A streaming response only notices a closed connection when it next writes (up to one
    heartbeat later). This watches the socket for the end-of-file the client's close sends,
    with an event-loop watcher rather than a greenlet (no stack per open stream); the callback
    runs in the event loop, so it must not block.
    """
    sock = client_socket()
    if sock is None:
        return None
    raw = getattr(sock, "_sock", sock)  # the OS socket under gevent's, for a non-blocking peek
    watcher = gevent.get_hub().loop.io(sock.fileno(), 1)

    def readable() -> None:
        try:
            if raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                watcher.stop()  # the client sent data (a pipelined request), not a close
                return
        except BlockingIOError:
            return  # woken without data: keep watching
        except OSError:
            pass  # reset: the client is gone either way
        watcher.stop()
        callback()

    watcher.start(readable)
    return watcher
