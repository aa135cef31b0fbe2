"""SSE: GET /api/executions/<id>/stream, and GET /api/streaming/stats."""

from __future__ import annotations

import logging
import re
from typing import Callable
from weakref import WeakKeyDictionary

from flask import Blueprint, Response, request

from ..errors import BoltdeckError, ValidationError
from ..extensions import Services, services
from ..schemas import StreamQueryArgsSchema, load
from ..storage.store import StoredEvent
from ..streaming import HEARTBEAT
from ..streaming.direct import SocketSink
from ..streaming.manager import Follow
from ..streaming.sse import SSE_HEADERS, encode_comment, encode_event, encode_event_chunk, encode_retry
from .auth import CredentialCheck, credential, requires, user_name
from .sockets import client_socket, on_disconnect

bp = Blueprint("streaming", __name__, url_prefix="/api")
log = logging.getLogger(__name__)
PING = encode_comment("ping")
EVENT_ID = re.compile(r"[0-9]{1,18}")
# Each event is encoded once for all its subscribers (1,000 subscribers, one encoding), in each
# framing; an entry lives as long as the event object does, while some subscriber holds it.
_frames: "WeakKeyDictionary[StoredEvent, bytes]" = WeakKeyDictionary()
_chunks: "WeakKeyDictionary[StoredEvent, bytes]" = WeakKeyDictionary()


@bp.get("/executions/<execution_id>/stream")
@requires("read")
def stream_execution(execution_id: str):
    args = load(StreamQueryArgsSchema(), request.args.to_dict())
    after, field = args.get("after", 0), "after"
    last_event_id = request.headers.get("Last-Event-ID")
    if last_event_id:
        after, field = _event_id(last_event_id), "Last-Event-ID"
    return sse_response(execution_id, after, field=field)


def _event_id(value: str) -> int:
    """Parse Last-Event-ID strictly: ASCII digits only (str.isdigit also takes "²", which int() refuses)."""
    if not EVENT_ID.fullmatch(value):
        raise ValidationError(
            "Last-Event-ID must be an event seq", details={"Last-Event-ID": ["must be a non-negative integer"]}
        )
    return int(value)


def sse_response(
    execution_id: str, after: int, release: Callable[[], None] | None = None, field: str = "after"
) -> Response:
    """Replay after `after`, then follow live; 404 (JSON) before the stream if the id is unknown.

    A resume at or past the `complete` of an ended log answers 204, which tells an EventSource
    to stop reconnecting; an `after` past the end of a log still growing is refused (400).
    The stream holds one of its user's stream slots (`release` gives it back; taken here when
    not given) until it ends or the client disconnects.
    """
    found = services()
    try:
        types = found.streams.visible_types(execution_id)
        ended = found.streams.log_ended_by(execution_id, after, field)
    except BaseException:
        if release is not None:
            release()
        raise
    if ended or request.method == "HEAD":  # no stream: werkzeug never runs a HEAD's body either
        if release is not None:
            release()
        return Response(status=204) if ended else Response(status=200, headers=SSE_HEADERS)
    if release is None:
        release = found.stream_limits.acquire(user_name())
    credentials = CredentialCheck(credential(), found.accounts, found.settings.credential_recheck_seconds)
    sink = _socket_sink(types)
    events = found.streams.follow(execution_id, after, "sse", types, idle_seconds=credentials.interval, sink=sink)
    return _stream(found, events, release, credentials)


def _socket_sink(types: frozenset[str]) -> SocketSink | None:
    """A sink on the response's socket, so live events skip this stream's greenlet; None where unsafe.

    Only under gevent's own server (`boltdeck serve`), whose framing of a streamed body is
    known: HTTP/1.1 chunks, or the bytes as they are for HTTP/1.0. Never on a TLS socket,
    whose bytes must go through its encryption. Other servers (gunicorn's gevent worker)
    get every event through the WSGI body, as before.
    """
    sock = client_socket()
    if sock is None or not request.environ.get("SERVER_SOFTWARE", "").startswith("gevent/") or _is_tls(sock):
        return None
    chunked = request.environ.get("SERVER_PROTOCOL") != "HTTP/1.0"
    return SocketSink(sock, _chunk if chunked else _frame, types)


def _is_tls(sock) -> bool:
    return hasattr(sock, "cipher")


def _stream(found: Services, events: Follow, release: Callable[[], None], credentials: CredentialCheck) -> Response:
    """The SSE response; a client's disconnect frees its slot and ends its follower at once.

    The credential is checked again every BOLTDECK_CREDENTIAL_RECHECK_SECONDS (the follower
    wakes at least that often); once it no longer reads, the stream ends, and the
    EventSource's reconnection is answered 401 or 403.
    """
    retry_ms = found.settings.sse_retry_ms

    def gone() -> None:
        release()
        events.stop()

    watcher = on_disconnect(gone)

    def body():
        try:
            yield encode_retry(retry_ms)
            for item in events:
                ended = _credential_lapsed(credentials)
                if ended:
                    yield ended
                    return
                yield PING if item is HEARTBEAT else _frame(item)
        finally:
            events.close()
            release()
            if watcher is not None:
                watcher.stop()
                watcher.close()

    return Response(body(), status=200, headers=SSE_HEADERS, direct_passthrough=True)


def _credential_lapsed(credentials: CredentialCheck) -> bytes | None:
    """A last comment saying why the stream ends, once its credential may no longer read; else None."""
    try:
        credentials.check_if_due()
    except BoltdeckError as exc:  # revoked, ended, deleted, downgraded, or not checkable: fail closed
        log.info("SSE stream closed: %s", exc.message)
        return encode_comment("closed: " + " ".join(exc.message.split()))  # one line, or it is no comment
    return None


def _frame(event: StoredEvent) -> bytes:
    frame = _frames.get(event)
    if frame is None:
        frame = _frames[event] = encode_event(event.seq, event.type, event.body)
    return frame


def _chunk(event: StoredEvent) -> bytes:
    """The event as one HTTP/1.1 chunk (what a sink sends; `fan_out` encodes it once per publish)."""
    chunk = _chunks.get(event)
    if chunk is None:
        chunk = _chunks[event] = encode_event_chunk(event.seq, event.type, event.body)
    return chunk


@bp.get("/streaming/stats")
@requires("read")
def streaming_stats():
    """This worker's figures; with `scope=cluster`, also every live worker's (as of its last heartbeat) and their sums."""
    found = services()
    scope = request.args.get("scope", "worker")
    if scope not in ("worker", "cluster"):
        raise ValidationError("scope must be worker or cluster", details={"scope": ["must be worker or cluster"]})
    here = {**found.streams.snapshot(), "worker": found.worker.describe()}
    if scope == "worker":
        return here
    workers = []
    for record in found.executions.cluster.live_workers():
        live = record["id"] == found.worker.id
        stats = here if live else (record["stats"] or {})
        workers.append(
            {
                "worker": {k: record[k] for k in ("id", "host", "pid", "role")},
                "leaseUntil": record["lease_until"],
                **{k: v for k, v in stats.items() if k != "worker"},
            }
        )
    return {**here, "workers": workers, "cluster": _sums(workers)}


def _sums(workers: list[dict]) -> dict:
    return {
        "workers": len(workers),
        "activeExecutions": sum(w.get("activeExecutions", 0) for w in workers),
        "subscribers": sum(w.get("subscribers", {}).get("total", 0) for w in workers),
        "eventsPublished": sum(w.get("eventsPublished", 0) for w in workers),
        "slowSubscriberRereads": sum(w.get("slowSubscriberRereads", 0) for w in workers),
    }
