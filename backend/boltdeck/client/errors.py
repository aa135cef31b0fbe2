"""The client's exceptions: one base, one type per kind of failure, each carrying code and message.

An error answer of the API (`{"error": {"code", "message", "details"}}`) becomes an `APIError`
subclass picked by its code, then by its HTTP status. Failures that never reach an answer
(a timeout, no connection, a stream that ends without `complete`) have their own types, and
subclass the built-in `TimeoutError` and `ConnectionError` so generic handlers catch them too.
"""

from __future__ import annotations

import builtins
from typing import Any


class ClientError(Exception):
    """Base of every error this client raises: `code`, `message` and `details` as the API names them."""

    def __init__(self, message: str, code: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class APIError(ClientError):
    """The server answered with an error: `status_code` and the API's code, message and details."""

    def __init__(self, message: str, code: str, details: dict[str, Any] | None = None, status_code: int = 0):
        super().__init__(message, code, details)
        self.status_code = status_code


class ValidationError(APIError):
    """400: the request was refused; `details` maps each bad field (`targets.0`, `params.name`) to its problems."""


class AuthenticationError(APIError):
    """401: no token, or a token that is unknown, revoked or expired."""


class ForbiddenError(APIError):
    """403: the role lacks the route's permission (or a CSRF/origin refusal)."""


class PolicyDeniedError(ForbiddenError):
    """403 `policy_denied`: the run policy refuses this command, task, target or expert mode.

    `details["policy"]` names the rule set, e.g. `policy.roles.operator.commands`.
    """


class NotFoundError(APIError):
    """404: no such execution, task or target."""


class ConflictError(APIError):
    """409: e.g. `not_cancellable` (already finished), `nothing_to_rerun`, `sensitive_parameters`."""


class RateLimitedError(APIError):
    """429: too many executions, streams or facts gatherings; `retry_after` seconds when the server says."""

    retry_after: float | None = None


class ServerError(APIError):
    """5xx: e.g. `bolt_unavailable` (503, names BOLTDECK_BOLT_BIN), `bolt_error` (502), `internal_error`."""


class TimeoutError(ClientError, builtins.TimeoutError):
    """Something took too long: `timed_out` (the execution hit its time limit: `execution_id`, and the
    output so far in `result` for `exec`), or `client_timeout` (the server did not answer in time)."""

    def __init__(self, message: str, code: str, execution_id: str | None = None, result: Any = None):
        super().__init__(message, code, {"executionId": execution_id} if execution_id else None)
        self.execution_id = execution_id
        self.result = result


class ConnectionError(ClientError, builtins.ConnectionError):
    """`connection_failed`: the server could not be reached (wrong URL, server down, TLS failure)."""


class StreamEndedError(ClientError):
    """`stream_ended`: an execution's stream stopped before its `complete` event and resuming failed.

    `execution_id` and `last_seq` (the last event received) let a caller try again later with
    `stream(execution_id, after=last_seq)`, losing nothing.
    """

    def __init__(self, message: str, execution_id: str, last_seq: int):
        super().__init__(message, "stream_ended", {"executionId": execution_id, "lastSeq": last_seq})
        self.execution_id = execution_id
        self.last_seq = last_seq


BY_CODE: dict[str, type[APIError]] = {"policy_denied": PolicyDeniedError}
BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def error_from_answer(status_code: int, body: Any, headers: dict[str, str] | None = None) -> APIError:
    """The exception for an error answer; a body that is not the API's error shape still gives one."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": f"http_{status_code}", "message": f"the server answered HTTP {status_code}"}
    code = str(error.get("code") or f"http_{status_code}")
    kind = BY_CODE.get(code) or BY_STATUS.get(status_code) or (ServerError if status_code >= 500 else APIError)
    exc = kind(str(error.get("message") or code), code, error.get("details") or {}, status_code)
    retry_after = (headers or {}).get("retry-after", "")
    if isinstance(exc, RateLimitedError) and retry_after.isdigit():
        exc.retry_after = float(retry_after)
    return exc
