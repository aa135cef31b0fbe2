"""Render every error as {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from .errors import BoltdeckError

log = logging.getLogger(__name__)


def init_app(app) -> None:
    @app.errorhandler(BoltdeckError)
    def _boltdeck_error(exc: BoltdeckError):
        return jsonify(exc.to_dict()), exc.status, exc.headers

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        from .api import ui_page, wants_ui_page

        if exc.code == 404 and wants_ui_page():  # a mistyped page address: the UI's own 404 page
            return ui_page(404)
        code = (exc.name or "error").lower().replace(" ", "_")
        body = {"error": {"code": code, "message": exc.description or exc.name, "details": {}}}
        response = jsonify(body)
        response.status_code = exc.code or 500
        for name, value in exc.get_headers():  # e.g. Allow on 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        body = {"error": {"code": "internal_error", "message": "internal server error", "details": {}}}
        return jsonify(body), 500
