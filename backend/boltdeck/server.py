"""Serve the app with gevent's WSGI server; stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import gc
import io
import json
import logging
import resource
import signal

import gevent
import gevent.event
from gevent.pywsgi import WSGIHandler, WSGIServer

from . import create_app, startup
from . import shutdown as shutdown_app
from .config import Settings

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10
# Descriptors kept for Boltdeck's own work when the connection cap is fitted to the open-file
# limit: the database and its journal, each Bolt process's pipes, the log. Past the limit gevent's
# accept fails (EMFILE) and so would starting Bolt; under the cap, more clients wait in the backlog.
RESERVED_DESCRIPTORS = 128
OPEN_FILES_GOAL = 65536  # the soft limit is raised this far when the hard limit allows


def serve(host: str | None = None, port: int | None = None, role: str | None = None) -> int:
    overrides = {k: v for k, v in (("host", host), ("port", port), ("role", role)) if v is not None}
    app = create_app(overrides)
    settings = app.config["BOLTDECK_SETTINGS"]
    startup(app)
    freeze_startup_objects()
    server = BoltdeckServer((settings.host, settings.port), app, settings)
    stopping = gevent.event.Event()

    def shutdown() -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("shutting down: interrupting running executions, closing streams")
        shutdown_app(app, timeout=SHUTDOWN_GRACE_SECONDS)
        server.stop(timeout=2)

    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, lambda: gevent.spawn(shutdown))
    server.start()
    print(f"Boltdeck listening on http://{settings.host}:{server.server_port}", flush=True)
    server.serve_forever()
    return 0


def freeze_startup_objects() -> None:
    """Move what start-up built (modules, the app, settings) out of the collector's reach.

    With 1,000 streams open, full collections took 51–74 ms each (every greenlet paused);
    after a freeze, 3–38 ms (docs/performance.md).
    """
    gc.collect()
    gc.freeze()


def run_runner() -> int:
    """`boltdeck runner`: run queued executions (no HTTP) until SIGTERM/SIGINT, then leave in order."""
    app = create_app({"role": "runner"})
    startup(app)
    freeze_startup_objects()
    stopping = gevent.event.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, stopping.set)
    worker = app.extensions["boltdeck"].worker
    print(f"Boltdeck runner {worker.id} (pid {worker.pid}) ready", flush=True)
    stopping.wait()
    log.info("runner shutting down: interrupting the executions it runs")
    shutdown_app(app, timeout=SHUTDOWN_GRACE_SECONDS)
    return 0


class DeadlineHandler(WSGIHandler):
    """gevent's handler with deadlines: slow or idle clients are dropped, live responses never cut.

    A request must arrive whole (line, headers and body) within the read timeout of its first
    byte; a new connection has as long to send that byte, a kept-alive one the keep-alive
    timeout. Both clocks stop before the application runs, so an SSE stream or a WebSocket
    lasts as long as it needs.
    """

    served = 0  # requests answered on this connection
    deadline: gevent.Timeout | None = None

    def handle_one_request(self):
        server: BoltdeckServer = self.server
        if not self._first_byte_within(server.keepalive_timeout if self.served else server.read_timeout):
            return None  # idle or gone: closed without a word, as any keep-alive expiry
        self.deadline = gevent.Timeout.start_new(server.read_timeout)
        try:
            result = super().handle_one_request()
        except gevent.Timeout as exc:
            if exc is not self.deadline:
                raise
            return self._refuse(server.timeout_response)
        except _BodyUnreadable:
            return self._refuse(BAD_BODY_RESPONSE)
        finally:
            self.deadline.close()
        self.served += 1
        return result

    def _first_byte_within(self, seconds: float) -> bool:
        with gevent.Timeout(seconds, False):
            try:
                return bool(self.rfile.peek(1))
            except OSError:  # reset by the client
                return False
        return False

    def _refuse(self, response: bytes) -> None:
        """Send a final error answer (it fits the socket's buffer: never waits) and close."""
        try:
            self.socket.sendall(response)
        except OSError:
            pass  # the client is gone already
        return None

    def get_environ(self):
        environ = super().get_environ()
        if environ["wsgi.input"] is self.wsgi_input:  # not a WebSocket upgrade, whose socket is the app's
            chunked = self.wsgi_input.chunked_input
            body = self._body_read_whole()
            environ["wsgi.input"] = ReadBody(body, self.rfile)
            if chunked:  # no longer chunked, and of known length: past the limit a 413, not a body cut short
                del environ["HTTP_TRANSFER_ENCODING"]
                environ["CONTENT_LENGTH"] = str(len(body))
        self.deadline.cancel()  # the application's time is its own
        return environ

    def _body_read_whole(self) -> bytes:
        """The body, read now under the request's deadline: the application never waits on the client."""
        declared, chunked = self.content_length or 0, self.wsgi_input.chunked_input
        limit = self.server.max_body_bytes
        body = b""
        if chunked or 0 < declared <= limit:
            try:
                body = self.wsgi_input.read(limit + 1 if chunked else declared)
            except OSError as exc:  # cut short, or a malformed chunk
                raise _BodyUnreadable from exc
        if declared > limit or len(body) > limit:
            # The application answers 413 from the length it sees; the unread rest cannot be
            # skipped in time, so the connection ends with that answer.
            self.close_connection = True
        self.wsgi_input = _NOTHING_LEFT
        return body


class ReadBody(io.BytesIO):
    """A request body read before the application ran; `rfile` still leads to the client's socket."""

    def __init__(self, body: bytes, rfile):
        super().__init__(body)
        self.rfile = rfile


class _NothingLeft:
    """What gevent's handler skips after a response when the body was read whole beforehand."""

    def _discard(self) -> None:
        return None


_NOTHING_LEFT = _NothingLeft()


class _BodyUnreadable(Exception):
    """The client ended or garbled the body it announced."""


def error_response(status: str, code: str, message: str) -> bytes:
    """A complete HTTP answer in Boltdeck's error shape, for the server to send before the app is reached."""
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


BAD_BODY_RESPONSE = error_response("400 Bad Request", "bad_request", "the request body ended early or is malformed")


class BoltdeckServer(WSGIServer):
    """gevent's WSGI server with Boltdeck's deadlines and a cap on connections served at once."""

    handler_class = DeadlineHandler

    def __init__(self, listener, app, settings: Settings):
        super().__init__(
            listener,
            app,
            spawn=connection_cap(settings.max_connections),
            log=None,
            error_log=logging.getLogger("gevent"),
        )
        self.read_timeout = settings.request_read_timeout_seconds
        self.keepalive_timeout = settings.keepalive_timeout_seconds
        self.max_body_bytes = settings.max_request_bytes
        self.timeout_response = error_response(
            "408 Request Timeout",
            "request_timeout",
            f"the request did not arrive whole within {self.read_timeout:g} s (BOLTDECK_REQUEST_READ_TIMEOUT_SECONDS)",
        )


def connection_cap(wanted: int) -> int:
    """Raise the open-file limit as far as allowed, then fit the connection cap under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    goal = OPEN_FILES_GOAL if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_GOAL)
    if soft != resource.RLIM_INFINITY and soft < goal:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (goal, hard))
            soft = goal
        except (ValueError, OSError):  # e.g. macOS refuses more than its own OPEN_MAX
            pass
    room = wanted if soft == resource.RLIM_INFINITY else max(1, soft - RESERVED_DESCRIPTORS)
    if room < wanted:
        log.warning(
            "serving at most %d connections, not BOLTDECK_MAX_CONNECTIONS=%d: the open-file limit is %d",
            room, wanted, soft,
        )
    return min(wanted, room)
