"""WebSocket /api/ws with a real client against a live server (issue 3)."""

from __future__ import annotations

import json
import threading

import websocket

from ..api.helpers import wait_until
from .sse_client import SSEStream


def _start(server, command: str, expert: bool = True) -> str:
    body = {"targets": ["localhost"], "command": command, "expertMode": expert}
    return server.run("/api/commands", body).json()["executionId"]


def _connect(server) -> websocket.WebSocket:
    return websocket.create_connection(
        server.url.replace("http://", "ws://") + "/api/ws", timeout=30, header=[f"{k}: {v}" for k, v in server.auth.items()]
    )


def _receive_until_complete(ws, execution_id: str) -> list[dict]:
    messages = []
    while True:
        message = json.loads(ws.recv())
        messages.append(message)
        if message.get("type") == "complete" and message.get("executionId") == execution_id:
            return messages


def test_websocket_subscribe_confirm_and_events(server):
    execution_id = _start(server, "echo ws-line")
    ws = _connect(server)
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": 0}))
    messages = _receive_until_complete(ws, execution_id)
    assert messages[0] == {"type": "subscription_confirmed", "executionId": execution_id, "after": 0}
    events = messages[1:]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert "ws-line\n" in [e["data"].get("text") for e in events if e["type"] == "stdout"]
    ws.close()


def test_websocket_include_filters_never_drop_errors_or_complete(server):
    execution_id = _start(server, "echo out; echo err >&2; exit 1")
    server.wait_final(execution_id)
    ws = _connect(server)
    include = {"output": False, "log": False, "progress": False}
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "include": include}))
    types = {m["type"] for m in _receive_until_complete(ws, execution_id)}
    assert types == {"subscription_confirmed", "start", "status", "result", "complete"}
    ws.close()


def test_websocket_after_and_several_subscriptions_on_one_socket(server):
    first, second = _start(server, "echo a"), _start(server, "echo b")
    server.wait_final(first)
    server.wait_final(second)
    ws = _connect(server)
    ws.send(json.dumps({"type": "subscribe", "executionId": first, "after": 2}))
    ws.send(json.dumps({"type": "subscribe", "executionId": second}))
    completes, seqs = set(), {first: [], second: []}
    while len(completes) < 2:
        message = json.loads(ws.recv())
        if "seq" in message:
            seqs[message["executionId"]].append(message["seq"])
            if message["type"] == "complete":
                completes.add(message["executionId"])
    assert seqs[first][0] == 3 and seqs[second][0] == 1
    ws.close()


def test_websocket_unsubscribe_and_errors_keep_socket_open(server):
    execution_id = _start(server, "sleep 2")
    ws = _connect(server)
    ws.send("not json")
    assert json.loads(ws.recv())["code"] == "invalid_json"
    ws.send(json.dumps({"type": "dance", "executionId": execution_id}))
    assert json.loads(ws.recv())["code"] == "unknown_type"
    ws.send(json.dumps({"type": "subscribe", "executionId": "0" * 32}))
    error = json.loads(ws.recv())
    assert error["type"] == "error" and error["code"] == "not_found"
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": -1}))
    assert json.loads(ws.recv())["code"] == "validation_error"
    ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
    assert json.loads(ws.recv())["type"] == "subscription_confirmed"
    json.loads(ws.recv())  # at least one event
    ws.send(json.dumps({"type": "unsubscribe", "executionId": execution_id}))
    while (message := json.loads(ws.recv()))["type"] != "unsubscribed":
        assert "seq" in message
    assert wait_until(lambda: server.api("GET", "/api/streaming/stats").json()["subscribers"]["byTransport"].get("websocket", 0) == 0, 5)
    ws.close()


def test_websocket_cancel(server):
    execution_id = _start(server, "sleep 60")
    assert wait_until(lambda: server.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running", 10)
    ws = _connect(server)
    ws.send(json.dumps({"type": "cancel", "executionId": execution_id}))
    reply = json.loads(ws.recv())
    assert reply == {"type": "cancel_accepted", "executionId": execution_id, "status": "cancelled"}
    ws.send(json.dumps({"type": "cancel", "executionId": execution_id}))
    assert json.loads(ws.recv())["code"] == "not_cancellable"
    ws.close()


def test_websocket_and_sse_clients_see_identical_sequences(server):
    execution_id = _start(server, "sleep 0.5; for i in $(seq 1 30); do echo mix-$i; sleep 0.01; done")
    results: dict[str, list] = {}

    def sse_reader(name: str) -> None:
        results[name] = [json.loads(f.data) for f in SSEStream(f"{server.url}/api/executions/{execution_id}/stream", headers=server.auth).events()]

    def ws_reader(name: str) -> None:
        ws = _connect(server)
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
        results[name] = [m for m in _receive_until_complete(ws, execution_id) if "seq" in m]
        ws.close()

    threads = [threading.Thread(target=sse_reader, args=(f"sse{i}",)) for i in range(50)]
    threads += [threading.Thread(target=ws_reader, args=(f"ws{i}",)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 60
    reference = results["sse0"]
    assert reference[-1]["type"] == "complete"
    assert all(sequence == reference for sequence in results.values())
