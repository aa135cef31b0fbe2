"""SSE: GET /api/executions/<id>/stream, and GET /api/streaming/stats."""

from __future__ import annotations

from typing import Callable
from weakref import WeakKeyDictionary

from flask import Blueprint, Response, request

from ..errors import ValidationError
from ..extensions import services
from ..schemas import StreamQueryArgsSchema, load
from ..storage.store import StoredEvent
from ..streaming import HEARTBEAT
from ..streaming.sse import SSE_HEADERS, encode_comment, encode_event, encode_retry
from .auth import requires, user_name
from .sockets import on_disconnect

bp = Blueprint("streaming", __name__, url_prefix="/api")
PING = encode_comment("ping")
# Each event is encoded once for all its subscribers (1,000 subscribers, one encoding); an
# entry lives as long as the event object does, that is while some subscriber still holds it.
_frames: "WeakKeyDictionary[StoredEvent, bytes]" = WeakKeyDictionary()


@bp.get("/executions/<execution_id>/stream")
@requires("read")
def stream_execution(execution_id: str):
    args = load(StreamQueryArgsSchema(), request.args.to_dict())
    after = args.get("after", 0)
    last_event_id = request.headers.get("Last-Event-ID")
    if last_event_id:
        if not last_event_id.isdigit() or len(last_event_id) > 18:
            raise ValidationError(
                "Last-Event-ID must be an event seq", details={"Last-Event-ID": ["must be a non-negative integer"]}
            )
        after = int(last_event_id)
    return sse_response(execution_id, after)


def sse_response(execution_id: str, after: int, release: Callable[[], None] | None = None) -> Response:
    """Replay after `after`, then follow live; 404 (JSON) before the stream if the id is unknown.

    The stream holds one of its user's stream slots (`release` gives it back; taken here when
    not given) until it ends or the client disconnects.
    """
    found = services()
    if release is None:
        release = found.stream_limits.acquire(user_name())
    try:
        types = found.streams.visible_types(execution_id)
    except BaseException:
        release()
        raise
    events = found.streams.follow(execution_id, after, "sse", types)
    retry_ms = found.settings.sse_retry_ms
    watcher = on_disconnect(release)

    def body():
        try:
            yield encode_retry(retry_ms)
            for item in events:
                yield PING if item is HEARTBEAT else _frame(item)
        finally:
            events.close()
            release()
            if watcher is not None:
                watcher.stop()
                watcher.close()

    return Response(body(), status=200, headers=SSE_HEADERS, direct_passthrough=True)


def _frame(event: StoredEvent) -> bytes:
    frame = _frames.get(event)
    if frame is None:
        frame = _frames[event] = encode_event(event.seq, event.type, event.body)
    return frame


@bp.get("/streaming/stats")
@requires("read")
def streaming_stats():
    return services().streams.snapshot()
