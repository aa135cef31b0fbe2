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
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        body = {"error": {"code": code, "message": exc.description or exc.name, "details": {}}}
        return jsonify(body), exc.code or 500

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        body = {"error": {"code": "internal_error", "message": "internal server error", "details": {}}}
        return jsonify(body), 500
