"""Live events sent straight to caught-up SSE sockets (streaming/direct.py): framing and order on a live server."""

from __future__ import annotations

import json
import re

from .sse_client import SSEStream, _parse
from .test_sse import _start, _stream

FIELD = re.compile(r"|: ping|retry: \d+|id: \d+|event: [a-z]+|data: \{.*\}")  # nothing else: no chunk framing
LINES = "for i in $(seq 1 40); do echo line-$i; sleep 0.01; done"


def _check_whole_log(server, execution_id: str, frames) -> None:
    events = [f for f in frames if f.event]
    full = server.api("GET", f"/api/executions/{execution_id}/events?limit=5000").json()["events"]
    assert [f.id for f in events] == [e["seq"] for e in full], "an event was lost, repeated or reordered"
    assert [json.loads(f.data) for f in events] == full
    stdout = "".join(f.json["data"]["text"] for f in events if f.event == "stdout")
    assert stdout == "".join(f"line-{i}\n" for i in range(1, 41))


def test_sse_http_1_0_stream_is_unchunked_and_whole(server):
    execution_id = _start(server, LINES)
    stream = SSEStream(f"{server.url}/api/executions/{execution_id}/stream", headers=server.auth, http_version="1.0")
    assert stream.status == 200 and "transfer-encoding" not in stream.headers
    raw = b"".join(stream._chunks())
    stream.close()
    lines = raw.decode().split("\n")
    assert all(FIELD.fullmatch(line) for line in lines), [line for line in lines if not FIELD.fullmatch(line)][:3]
    frames = [_parse(frame) for frame in raw.decode().split("\n\n") if frame]
    assert frames[0].retry == 3000
    _check_whole_log(server, execution_id, frames)


def test_sse_many_viewers_of_live_output_get_the_same_whole_log(server):
    execution_id = _start(server, "sleep 0.5; " + LINES)
    streams = [_stream(server, execution_id) for _ in range(20)]
    try:
        for stream in streams:
            _check_whole_log(server, execution_id, list(stream.frames()))
            assert stream.closed_by_server
    finally:
        for stream in streams:
            stream.close()
