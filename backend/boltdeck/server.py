"""Serve the app with gevent's WSGI server; stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal

import gevent
import gevent.event
from gevent.pywsgi import WSGIServer

from . import create_app, startup

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10


def serve(host: str | None = None, port: int | None = None) -> int:
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    app = create_app(overrides)
    settings = app.config["BOLTDECK_SETTINGS"]
    startup(app)
    server = WSGIServer((settings.host, settings.port), app, log=None, error_log=logging.getLogger("gevent"))
    stopping = gevent.event.Event()

    def shutdown() -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("shutting down: interrupting running executions, closing streams")
        app.extensions["boltdeck"].executions.shutdown(timeout=SHUTDOWN_GRACE_SECONDS)
        server.stop(timeout=2)

    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, lambda: gevent.spawn(shutdown))
    server.start()
    print(f"Boltdeck listening on http://{settings.host}:{server.server_port}", flush=True)
    server.serve_forever()
    return 0
