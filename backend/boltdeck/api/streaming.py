"""SSE: GET /api/executions/<id>/stream, and GET /api/streaming/stats."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..errors import ValidationError
from ..extensions import services
from ..schemas import StreamQueryArgsSchema, load
from ..streaming import HEARTBEAT
from ..streaming.sse import SSE_HEADERS, encode_comment, encode_event, encode_retry

bp = Blueprint("streaming", __name__, url_prefix="/api")


@bp.get("/executions/<execution_id>/stream")
def stream_execution(execution_id: str):
    args = load(StreamQueryArgsSchema(), request.args.to_dict())
    after = args.get("after", 0)
    last_event_id = request.headers.get("Last-Event-ID")
    if last_event_id:
        if not last_event_id.isdigit():
            raise ValidationError(
                "Last-Event-ID must be an event seq", details={"Last-Event-ID": ["must be a non-negative integer"]}
            )
        after = int(last_event_id)
    return sse_response(execution_id, after)


def sse_response(execution_id: str, after: int) -> Response:
    """Replay after `after`, then follow live; 404 (JSON) before the stream if the id is unknown."""
    found = services()
    types = found.streams.visible_types(execution_id)
    events = found.streams.follow(execution_id, after, "sse", types)
    retry_ms = found.settings.sse_retry_ms

    def body():
        try:
            yield encode_retry(retry_ms)
            for item in events:
                yield encode_comment("ping") if item is HEARTBEAT else encode_event(item.seq, item.type, item.body)
        finally:
            events.close()

    return Response(body(), status=200, headers=SSE_HEADERS, direct_passthrough=True)


@bp.get("/streaming/stats")
def streaming_stats():
    return services().streams.snapshot()
