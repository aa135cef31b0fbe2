"""Streams always end (issue 10): resume past the end, ids beyond the log, disconnects, bad ids, store failures."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import requests
import websocket

from ..api.helpers import events_of, wait_until
from ..pg import sqlite_only
from .sse_client import SSEStream

IDLE = "sleep 30"


def _start(server, command: str) -> str:
    response = server.run("/api/commands", {"targets": ["localhost"], "command": command, "expertMode": True})
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _stream(server, execution_id: str, query: str = "", **headers) -> SSEStream:
    url = f"{server.url}/api/executions/{execution_id}/stream{query}"
    return SSEStream(url, headers={**server.auth, **headers}, timeout=10)


def _subscribers(server) -> int:
    return server.api("GET", "/api/streaming/stats").json()["subscribers"]["total"]


def _connect(server) -> websocket.WebSocket:
    url = server.url.replace("http://", "ws://") + "/api/ws"
    return websocket.create_connection(url, timeout=10, header=[f"{k}: {v}" for k, v in server.auth.items()])


def _cancel(server, execution_id: str) -> None:
    server.api("POST", f"/api/executions/{execution_id}/cancel")


def test_sse_resume_at_or_past_complete_ends_at_once_and_holds_no_slot(make_server):
    """Bug: resuming with Last-Event-ID at or past `complete` (what an EventSource does after the
    server closes) got pings forever and held one of the user's stream slots."""
    server = make_server(max_streams_per_user=1, sse_heartbeat_seconds=60)
    execution_id = _start(server, "echo done")
    first = _stream(server, execution_id)
    complete = list(first.events())[-1]
    first.close()
    assert complete.event == "complete"
    for resume in ({"Last-Event-ID": str(complete.id)}, {"Last-Event-ID": str(complete.id + 7)}):
        stream = _stream(server, execution_id, **resume)
        assert stream.status == 204, resume  # tells an EventSource to stop reconnecting
        stream.close()
    stream = _stream(server, execution_id, f"?after={complete.id}")
    assert stream.status == 204
    stream.close()
    assert _subscribers(server) == 0
    running = _start(server, IDLE)  # the one slot is free: a new stream opens
    live = _stream(server, running)
    assert live.status == 200
    live.close()
    _cancel(server, running)


def test_sse_head_holds_no_stream_slot(make_server):
    """Bug: a HEAD of a stream took a stream slot that nothing gave back while its connection
    stayed open (a HEAD's body, which releases it, is never run), and it then sent a stray chunk."""
    server = make_server(max_streams_per_user=1, sse_heartbeat_seconds=60)
    execution_id = _start(server, IDLE)
    with requests.Session() as keep_alive:
        url = f"{server.url}/api/executions/{execution_id}/stream"
        head = keep_alive.head(url, headers=server.auth, timeout=10)
        assert head.status_code == 200 and head.headers["content-type"].startswith("text/event-stream")
        assert keep_alive.get(f"{server.url}/api/health", timeout=10).status_code == 200  # same connection
        stream = _stream(server, execution_id)
        assert stream.status == 200  # the one slot is free
        stream.close()
    _cancel(server, execution_id)


def test_sse_resume_past_the_end_of_a_running_log_is_refused(make_server):
    """Bug: a Last-Event-ID beyond the log of a running execution silently skipped `complete`."""
    server = make_server()
    execution_id = _start(server, IDLE)
    assert wait_until(lambda: any(e["type"] == "status" for e in events_of(server, execution_id)), 10)
    last = events_of(server, execution_id)[-1]["seq"]
    stream = _stream(server, execution_id, **{"Last-Event-ID": str(last + 100)})
    assert stream.status == 400
    error = stream.body_json()["error"]
    stream.close()
    assert error["code"] == "validation_error" and "Last-Event-ID" in error["message"]
    assert error["details"]["lastSeq"] == last and "Last-Event-ID" in error["details"]
    stream = _stream(server, execution_id, f"?after={last + 1}")
    assert stream.status == 400 and "after" in stream.body_json()["error"]["details"]
    stream.close()
    at_end = _stream(server, execution_id, f"?after={last}")  # at the end of a growing log: follows
    assert at_end.status == 200
    _cancel(server, execution_id)
    assert [f.event for f in at_end.events()][-1] == "complete"
    at_end.close()


def test_sse_disconnect_frees_the_subscriber_at_once(make_server):
    """Bug: a disconnected SSE subscriber was only noticed at the next heartbeat (here 60 s)."""
    server = make_server(sse_heartbeat_seconds=60)
    execution_id = _start(server, IDLE)
    stream = _stream(server, execution_id)
    for frame in stream.events():
        if frame.event == "status" and frame.json["data"]["status"] == "running":
            break  # replayed what there was; now waiting for live events
    assert _subscribers(server) == 1
    stream.close()
    assert wait_until(lambda: _subscribers(server) == 0, 1.0), "the subscriber outlived its client"
    _cancel(server, execution_id)


def test_sse_last_event_id_with_a_non_ascii_digit_is_400(server):
    """Bug: `Last-Event-ID: ²` (str.isdigit accepts it, int() refuses it) answered 500."""
    execution_id = _start(server, "true")
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        f"GET /api/executions/{execution_id}/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: {server.auth['Authorization']}\r\nLast-Event-ID: "
    ).encode() + "²".encode("latin-1") + b"\r\nConnection: close\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400", head
    assert "Last-Event-ID" in json.loads(body)["error"]["details"]


def test_websocket_subscribe_at_or_past_complete_ends_at_once(server):
    """Bug: a WebSocket subscription with `after` at the `complete` of an ended execution never ended."""
    execution_id = _start(server, "echo done")
    server.wait_final(execution_id)
    complete = events_of(server, execution_id)[-1]
    assert complete["type"] == "complete"
    ws = _connect(server)
    for after in (complete["seq"], complete["seq"] + 3):
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": after}))
        assert json.loads(ws.recv())["type"] == "subscription_confirmed"
        assert json.loads(ws.recv()) == {"type": "unsubscribed", "executionId": execution_id, "reason": "complete"}
    assert server.api("GET", "/api/streaming/stats").json()["subscribers"]["byTransport"].get("websocket", 0) == 0
    ws.close()


def test_websocket_after_past_the_end_of_a_running_log_is_refused(server):
    """Bug: a WebSocket `after` beyond the log of a running execution silently skipped `complete`."""
    execution_id = _start(server, IDLE)
    ws = _connect(server)
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": 10**6}))
    error = json.loads(ws.recv())
    assert error["type"] == "error" and error["code"] == "validation_error"
    assert error["executionId"] == execution_id and "after" in error["message"]
    ws.close()
    _cancel(server, execution_id)


@sqlite_only("stores invalid UTF-8 in an event, which PostgreSQL refuses to store")
def test_websocket_storage_error_is_reported_and_the_socket_stays_usable(make_server):
    """Bug: a storage error while forwarding a subscription ended it silently: the client waited forever.

    A real failure: event 2's stored text is made invalid UTF-8, so reading the log from there
    fails in SQLite's driver while the subscription replays it.
    """
    server = make_server()
    execution_id = _start(server, "echo fine")
    server.wait_final(execution_id)
    database = Path(server.env["BOLTDECK_DATABASE_URL"].removeprefix("sqlite:///"))
    with sqlite3.connect(database, timeout=10) as conn:
        conn.execute(
            "UPDATE events SET body = CAST(x'ff' AS TEXT) WHERE execution_id = ? AND seq = 2", (execution_id,)
        )
    conn.close()
    ws = _connect(server)
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
    assert json.loads(ws.recv())["type"] == "subscription_confirmed"
    error = json.loads(ws.recv())
    assert error["type"] == "error" and error["executionId"] == execution_id, error
    assert error["code"] == "storage_error" and "decode" in error["message"], error
    assert wait_until(lambda: _subscribers(server) == 0, 5)  # that subscription is over
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": 2}))  # same socket
    messages = [json.loads(ws.recv()) for _ in range(2)]
    assert messages[0]["type"] == "subscription_confirmed" and messages[1]["seq"] == 3
    ws.close()
