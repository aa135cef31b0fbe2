"""HTTP blueprints: thin views that parse with a schema, call a service, return a schema."""

from __future__ import annotations

from flask import request, send_from_directory

from ..bundle import FRONTEND_DIR
from . import admin, apply, auth, commands, executions, health, inventory, openapi, packages, plans, puppet, streaming, tasks, ws
from .sockets import send_without_delay

# Defence in depth for the UI: only our own scripts run, even if some output slipped into markup.
UI_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# API answers carry users' data and Bolt's output: no cache, browser or proxy, may keep a copy.
API_CACHE_CONTROL = "no-store"


def init_app(app) -> None:
    app.before_request(send_without_delay)
    app.before_request(auth.guard)
    app.after_request(mark_api_answer)
    app.url_map.converters["task"] = tasks.TaskNameConverter
    app.url_map.converters["plan"] = plans.PlanNameConverter
    blueprints = (auth, admin, health, inventory, tasks, plans, commands, puppet, apply, packages, executions, streaming, openapi)
    for module in blueprints:
        app.register_blueprint(module.bp)
    ws.sock.init_app(app)

    # The browser UI is a single page: every client-side route answers the same index.html.
    @app.get("/")
    @app.get("/inventory")
    @app.get("/targets/<path:name>")
    @app.get("/run")
    @app.get("/plans")
    @app.get("/plans/<path:plan>")
    @app.get("/executions")
    @app.get("/executions/<execution_id>")
    @app.get("/login")
    @app.get("/admin")
    def index(**_route_args):
        return ui_page()


def ui_page(status: int = 200):
    """The single page of the UI (it shows its own not-found page for an unknown path)."""
    response = send_from_directory(FRONTEND_DIR, "index.html", max_age=0)
    response.status_code = status
    response.headers["Content-Security-Policy"] = UI_CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def wants_ui_page() -> bool:
    """A browser asking for a page outside the API and the static files."""
    path = request.path
    outside = not (path == "/api" or path.startswith(("/api/", "/static/")))
    return outside and request.method == "GET" and "text/html" in request.headers.get("Accept", "")


def mark_api_answer(response):
    """Make every /api answer (errors, downloads and streams too) uncacheable and never content-sniffed.

    A stream's `no-transform` is kept: it stops proxies from compressing, and so buffering, SSE.
    """
    if request.path == "/api" or request.path.startswith("/api/"):
        streamed = "no-transform" in response.headers.get("Cache-Control", "")
        response.headers["Cache-Control"] = API_CACHE_CONTROL + (", no-transform" if streamed else "")
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response
