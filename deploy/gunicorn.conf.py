"""gunicorn settings for Boltdeck's web processes: gevent workers behind nginx (docs/deployment.md).

    boltdeck db upgrade                               (first, and after every upgrade: workers never migrate)
    gunicorn --config deploy/gunicorn.conf.py         (serves wsgi:app from this repository)

The address is Boltdeck's own BOLTDECK_HOST and BOLTDECK_PORT, the process count gunicorn's
WEB_CONCURRENCY; every other Boltdeck setting is read by the app itself (BOLTDECK_* variables or
BOLTDECK_CONFIG). BOLTDECK_ROLE=web leaves running executions to `boltdeck runner` processes.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import gevent

import boltdeck
from boltdeck.config import Settings
from boltdeck.server import SHUTDOWN_GRACE_SECONDS, connection_cap, freeze_startup_objects

settings = Settings.load()
log = logging.getLogger("boltdeck.gunicorn")

wsgi_app = "wsgi:app"
pythonpath = str(Path(__file__).resolve().parents[1])  # where wsgi.py is
# gevent: one process serves thousands of streams. The worker patches the standard library
# itself, before it loads the app; the app is loaded in each worker (no preload_app), after
# that patching, and so is its database pool.
worker_class = "gevent"
bind = [f"[{settings.host}]:{settings.port}" if ":" in settings.host else f"{settings.host}:{settings.port}"]
# One worker per core once a broker carries events between processes; with the in-process
# broker a second worker would never hear of the executions the first one runs.
workers = int(os.environ.get("WEB_CONCURRENCY") or ((os.cpu_count() or 1) if settings.broker_url else 1))
# Each worker serves this many connections at once, streams included (gunicorn's default is 1000).
# The open-file limit is raised here, in the master, so that the workers inherit it.
worker_connections = connection_cap(settings.max_connections)
# gevent workers are never timed out on a long request, only when the process stops answering
# the master (a CPU-bound loop): `timeout` is that heartbeat, not a request limit.
timeout = 30
# On SIGTERM a worker interrupts its executions at once (Bolt gets SIGTERM, then SIGKILL after
# BOLTDECK_KILL_GRACE_SECONDS) and stops accepting; streams that end with their execution close.
# The master kills workers still there after graceful_timeout: streams still open are cut, and
# their clients resume on another process with Last-Event-ID.
graceful_timeout = int(SHUTDOWN_GRACE_SECONDS + 10)
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx always closes an idle kept-alive
# connection first and never sends a request on one this side is closing.
keepalive = math.ceil(settings.keepalive_timeout_seconds)
# X-Forwarded-Proto is trusted from the local nginx only; Boltdeck itself trusts X-Forwarded-*
# for BOLTDECK_PROXY_HOPS proxies.
forwarded_allow_ips = "127.0.0.1,::1"
# nginx logs every request with the client's address; gunicorn adds only errors (to journald).
accesslog = None
errorlog = "-"
loglevel = settings.log_level.lower()
proc_name = "boltdeck-web"
# The control socket (gunicornc) lives under $HOME by default, shared by every gunicorn of the
# user; `systemctl reload` (SIGHUP) and WEB_CONCURRENCY do its work here.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Watch for the worker's stop; its executions are interrupted then, not after its streams drain."""
    worker.boltdeck_stopped = gevent.spawn(_shut_down_when_stopping, worker)
    freeze_startup_objects()  # the app is loaded by now: keep it out of full collections


def worker_exit(server, worker) -> None:
    """Let the app's shutdown finish before the worker process ends (also on SIGINT and SIGQUIT)."""
    stopped = getattr(worker, "boltdeck_stopped", None)  # absent in the master, which calls this too
    if stopped is not None:
        stopped.join(SHUTDOWN_GRACE_SECONDS + 2)


def _shut_down_when_stopping(worker) -> None:
    while worker.alive:  # gunicorn's SIGTERM handler only clears this flag; the worker polls it too
        gevent.sleep(0.2)
    try:
        boltdeck.shutdown(worker.wsgi, SHUTDOWN_GRACE_SECONDS)
    except Exception:  # the worker exits anyway; the lease then expires and another process records the runs
        log.exception("Boltdeck shutdown failed in worker %s", worker.pid)
