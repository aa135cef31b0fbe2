"""One exception base per layer and the one JSON error shape on the wire."""

from __future__ import annotations

from typing import Any


class BoltdeckError(Exception):
    """Base of every error Boltdeck raises on purpose; carries its HTTP status and code."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        self.headers = headers or {}
        if code:
            self.code = code
        if status:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        """Render the wire shape: {"error": {"code", "message", "details"}}."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ConfigError(BoltdeckError):
    code = "config_error"


class ValidationError(BoltdeckError):
    """Bad input from a client; details maps field names to their problems."""

    status = 400
    code = "validation_error"


class NotFoundError(BoltdeckError):
    status = 404
    code = "not_found"


class ConflictError(BoltdeckError):
    status = 409
    code = "conflict"


class AuthenticationError(BoltdeckError):
    """No valid session cookie or API token came with a request that needs one."""

    status = 401
    code = "unauthenticated"


class ForbiddenError(BoltdeckError):
    """Authenticated, but the role, the CSRF check or the command policy does not allow it."""

    status = 403
    code = "forbidden"


class RateLimitedError(BoltdeckError):
    status = 429
    code = "rate_limited"


class BoltError(BoltdeckError):
    """Something went wrong talking to the bolt CLI."""

    status = 502
    code = "bolt_error"


class BoltUnavailableError(BoltError):
    status = 503
    code = "bolt_unavailable"


class StorageError(BoltdeckError):
    code = "storage_error"
