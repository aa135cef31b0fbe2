"""SSE against a live server: live lines, resume, replay, fan-out, slow readers, heartbeats (issue 3)."""

from __future__ import annotations

import json
import signal
import threading
import time

from ..api.helpers import wait_until
from .sse_client import SSEStream

TICKS = "for i in 1 2 3 4 5 6 7 8 9 10; do date +%s.%N; sleep 0.2; done"


def _start(server, command: str, expert: bool = True, **extra) -> str:
    body = {"targets": ["localhost"], "command": command, "expertMode": expert, **extra}
    response = server.run("/api/commands", body)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _stream(server, execution_id: str, **headers) -> SSEStream:
    return SSEStream(f"{server.url}/api/executions/{execution_id}/stream", headers={**server.auth, **headers})


def test_sse_lines_arrive_live_not_batched(server):
    execution_id = _start(server, TICKS)
    stream = _stream(server, execution_id)
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-store, no-transform"
    assert stream.headers["x-accel-buffering"] == "no"
    latencies, completed_at = [], None
    for frame in stream.events():
        if frame.event == "stdout":
            for line in frame.json["data"]["text"].splitlines():
                latencies.append(frame.arrived - float(line))
        if frame.event == "complete":
            completed_at = frame.arrived
    assert len(latencies) == 10
    assert max(latencies) < 0.1, latencies  # each line well within 100 ms of being printed
    assert stream.closed_by_server and completed_at is not None


def test_sse_resume_with_last_event_id_loses_and_repeats_nothing(server):
    execution_id = _start(server, "for i in $(seq 1 30); do echo line-$i; sleep 0.03; done")
    first = _stream(server, execution_id)
    seen = []
    for frame in first.events():
        seen.append(frame)
        if len(seen) == 5:
            break
    first.close()
    time.sleep(0.3)  # events keep coming while the client is away
    second = _stream(server, execution_id, **{"Last-Event-ID": str(seen[-1].id)})
    seen += list(second.events())
    ids = [f.id for f in seen]
    assert ids == sorted(set(ids)), "an event was repeated or reordered"
    full = server.api("GET", f"/api/executions/{execution_id}/events?limit=5000").json()["events"]
    assert ids == [e["seq"] for e in full], "an event was lost"
    stdout = "".join(f.json["data"]["text"] for f in seen if f.event == "stdout")
    result = server.api("GET", f"/api/executions/{execution_id}").json()["results"][0]
    assert stdout == result["stdout"] == "".join(f"line-{i}\n" for i in range(1, 31))


def test_sse_after_query_parameter(server):
    execution_id = _start(server, "echo a; echo b")
    server.wait_final(execution_id)
    frames = list(SSEStream(f"{server.url}/api/executions/{execution_id}/stream?after=3", headers=server.auth).events())
    assert frames[0].id == 4


def test_sse_after_complete_replays_everything_and_closes(server):
    execution_id = _start(server, "echo one; echo two >&2")
    server.wait_final(execution_id)
    stream = _stream(server, execution_id)
    frames = list(stream.frames())
    assert frames[0].retry == 3000
    events = [f for f in frames if f.event]
    assert [f.id for f in events] == list(range(1, len(events) + 1))
    assert events[0].event == "start" and events[-1].event == "complete"
    assert stream.closed_by_server


def test_sse_unknown_execution_is_json_404(server):
    stream = _stream(server, "f" * 32)
    assert stream.status == 404
    assert stream.headers["content-type"].startswith("application/json")
    assert stream.body_json()["error"]["code"] == "not_found"


def test_sse_stalled_client_does_not_slow_others_and_still_gets_everything(make_server):
    server = make_server(subscriber_queue_size=20)
    # about 6 MB of output: far more than the stalled client's socket buffers hold
    command = "i=0; while [ $i -lt 60000 ]; do echo \"row $i ..........................................................................................\"; i=$((i+1)); done"
    execution_id = _start(server, command, timeoutSeconds=120)
    stalled = SSEStream(f"{server.url}/api/executions/{execution_id}/stream", headers=server.auth, receive_buffer=8192)
    started = time.monotonic()
    reader = _stream(server, execution_id)
    live_frames = list(reader.events())
    live_elapsed = time.monotonic() - started
    assert live_frames[-1].event == "complete"
    assert server.wait_final(execution_id)["status"] == "success"
    assert live_elapsed < 60
    late_frames = list(stalled.events())  # now it reads: it still gets every event
    assert [f.id for f in late_frames] == [f.id for f in live_frames]
    stats = server.api("GET", "/api/streaming/stats").json()
    assert stats["slowSubscriberRereads"] >= 1


def test_sse_idle_stream_shows_heartbeats(server):
    execution_id = _start(server, "sleep 3")
    comments = [f.comment for f in _stream(server, execution_id).frames() if f.comment is not None]
    assert comments.count("ping") >= 1  # the session server's heartbeat is 1 s


def test_sse_non_expert_stream_carries_lifecycle_only(server):
    execution_id = _start(server, "echo secret-output; echo err >&2", expert=False)
    types = {f.event for f in _stream(server, execution_id).events()}
    assert types == {"start", "status", "result", "progress", "complete"}
    assert not types & {"command", "stdout", "stderr", "log"}


def test_sse_run_request_streams_from_start_to_complete(server):
    body = json.dumps({"targets": ["localhost"], "command": "echo direct", "expertMode": True}).encode()
    stream = SSEStream(f"{server.url}/api/commands", method="POST", body=body, headers=server.auth)
    assert stream.status == 200
    events = list(stream.events())
    assert events[0].event == "start" and events[0].id == 1
    assert events[-1].event == "complete" and events[-1].json["data"]["status"] == "success"
    assert "direct\n" in [e.json["data"].get("text") for e in events if e.event == "stdout"]


def test_sse_disconnecting_viewer_does_not_affect_execution(server):
    execution_id = _start(server, "sleep 0.5; echo still-here")
    stream = _stream(server, execution_id)
    next(stream.events())
    stream.close()
    execution = server.wait_final(execution_id)
    assert execution["status"] == "success" and execution["results"][0]["stdout"] == "still-here\n"
    assert wait_until(lambda: server.api("GET", "/api/streaming/stats").json()["subscribers"]["total"] == 0, 5)


def test_sse_output_cap_truncates_once_replay_equals_live(make_server):
    live = make_server(max_output_bytes=2000)
    execution_id = _start(live, "for i in $(seq 1 500); do echo line-$i; done; echo tail >&2")
    live_frames = [(f.id, f.event, f.data) for f in _stream(live, execution_id).events()]
    replay = [(f.id, f.event, f.data) for f in _stream(live, execution_id).events()]
    assert live_frames == replay
    notices = [json.loads(d) for _, e, d in live_frames if e == "log" and "truncated" in d]
    assert len(notices) == 1 and notices[0]["data"]["limitBytes"] == 2000
    output = sum(len(json.loads(d)["data"]["text"].encode()) for _, e, d in live_frames if e in ("stdout", "stderr"))
    assert output <= 2000
    execution = live.wait_final(execution_id)
    assert execution["status"] == "success"
    assert len(execution["results"][0]["stdout"]) <= 2000


def test_sse_server_shutdown_ends_streams_cleanly(make_server):
    live = make_server()
    execution_id = _start(live, "sleep 60")
    stream = _stream(live, execution_id)
    collected = []

    def read():
        collected.extend(stream.events())

    reader = threading.Thread(target=read)
    reader.start()
    assert wait_until(lambda: any(f.event == "status" for f in collected), 10)
    live.stop(signal.SIGTERM)
    reader.join(10)
    assert not reader.is_alive() and stream.closed_by_server
    assert collected[-1].event == "complete" and collected[-1].json["data"]["status"] == "interrupted"


def test_sse_flood_is_coalesced_events_bounded_bytes_kept(server):
    lines = 40000
    execution_id = _start(server, f"seq 1 {lines}")
    frames = list(_stream(server, execution_id).events())
    stdout_frames = [f for f in frames if f.event == "stdout"]
    text = "".join(f.json["data"]["text"] for f in stdout_frames)
    assert text == "".join(f"{i}\n" for i in range(1, lines + 1))  # every byte, in order
    first = stdout_frames[0].json["timestamp"]
    last = stdout_frames[-1].json["timestamp"]
    from datetime import datetime

    span = (datetime.fromisoformat(last.rstrip("Z")) - datetime.fromisoformat(first.rstrip("Z"))).total_seconds()
    window = 0.005  # BOLTDECK_STREAM_COALESCE_MS default
    assert len(stdout_frames) < lines / 20, len(stdout_frames)
    assert len(stdout_frames) <= span / window + 10, (len(stdout_frames), span)
