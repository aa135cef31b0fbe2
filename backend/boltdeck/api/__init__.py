"""HTTP blueprints: thin views that parse with a schema, call a service, return a schema."""

from __future__ import annotations

from flask import send_from_directory

from ..config import REPO_ROOT
from . import commands, executions, health, inventory, packages, puppet, streaming, tasks, ws


def init_app(app) -> None:
    for module in (health, inventory, tasks, commands, puppet, packages, executions, streaming):
        app.register_blueprint(module.bp)
    ws.sock.init_app(app)

    @app.get("/")
    def index():
        return send_from_directory(REPO_ROOT / "frontend", "index.html")
