"""Python client of Boltdeck's HTTP API: run, follow, cancel and re-run executions; `exec` and `exec_stream`.

    from boltdeck.client import Client
    with Client("https://boltdeck.example", token=token, targets="web01") as client:
        print(client.exec("uptime").output)

`Client` blocks, `AsyncClient` is awaited; both speak the same API through httpx (sync and async
from one library, HTTP/1.1 streaming, timeouts per phase) and httpx-sse (the SSE wire format),
and follow a stream across dropped connections by `Last-Event-ID`, waiting the server's
`retry:` between tries. Importing this package never imports Flask or gevent, and patches
nothing: the server is not needed on a client machine. docs/scripting.md has the tour.
"""

from __future__ import annotations

try:
    from .aio import AsyncClient
    from .sync import Client
except ImportError as exc:  # say what to install, not only what is missing
    if exc.name not in ("httpx", "httpx_sse", "anyio"):
        raise
    message = f"boltdeck.client needs httpx and httpx-sse: pip install 'boltdeck[client]' ({exc})"
    raise ImportError(message, name=exc.name) from exc
from .errors import (
    APIError,
    AuthenticationError,
    ClientError,
    ConflictError,
    ConnectionError,
    ForbiddenError,
    NotFoundError,
    PolicyDeniedError,
    RateLimitedError,
    ServerError,
    StreamEndedError,
    TimeoutError,
    ValidationError,
)
from .models import Chunk, Event, Execution, ExecutionPage, ExecResult, TargetResult

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "Chunk",
    "Client",
    "ClientError",
    "ConflictError",
    "ConnectionError",
    "Event",
    "ExecResult",
    "Execution",
    "ExecutionPage",
    "ForbiddenError",
    "NotFoundError",
    "PolicyDeniedError",
    "RateLimitedError",
    "ServerError",
    "StreamEndedError",
    "TargetResult",
    "TimeoutError",
    "ValidationError",
]
