"""Boltdeck: a web console and HTTP API for Puppet Bolt."""

from __future__ import annotations

from typing import Any, Mapping

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None, upgrade_schema: bool = True):
    """Build the Flask app: settings, store, Bolt service, streaming manager, blueprints.

    `upgrade_schema=False` (WSGI workers, started many at once) requires the schema to be
    current already (`boltdeck db upgrade` first) instead of migrating it.
    """
    from flask import Flask

    from . import api, errors_http, extensions
    from .bundle import FRONTEND_DIR
    from .config import Settings
    from .schemas.json_input import RequestJSONProvider

    settings = Settings.load(overrides=config)
    app = Flask(__name__, static_folder=str(FRONTEND_DIR), static_url_path="/static")
    app.config["BOLTDECK_SETTINGS"] = settings
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": 25, "max_message_size": settings.ws_max_message_bytes}
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    if settings.proxy_hops:  # trust that many proxies' X-Forwarded-* (client address, https, host)
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.json = RequestJSONProvider(app)  # request bodies: depth and encoding checked (400, never 500)
    app.json.sort_keys = False
    extensions.init_app(app, settings, upgrade_schema)
    errors_http.init_app(app)
    api.init_app(app)
    return app


def startup(app) -> list[str]:
    """Work done once when a process starts: join the workers, recover what dead ones left, start claiming."""
    import gevent

    from .extensions import services

    with app.app_context():
        found = services()
        recovered = found.coordinator.start()
    gevent.spawn(_warm_caches, found.bolt)
    return recovered


def shutdown(app, timeout: float) -> None:
    """Leave in order: stop accepting, interrupt the runs this process owns, end the lease, close the broker."""
    found = app.extensions["boltdeck"]
    found.executions.shutdown(timeout=timeout)
    found.coordinator.stop()
    found.streams.broker.close()


def _warm_caches(bolt) -> None:
    """Ask Bolt for its inventory and version once at start-up, so the first run answers fast."""
    from .errors import BoltdeckError

    try:
        bolt.inventory()
        bolt.version()
    except BoltdeckError:
        pass  # /api/health and the first request report the problem
