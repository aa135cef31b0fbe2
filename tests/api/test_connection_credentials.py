"""Credentials are checked for the life of every connection, not only when it opens (issue 11).

Each test runs a live server whose streams re-check their credential every half second
(BOLTDECK_CREDENTIAL_RECHECK_SECONDS), with heartbeats far apart, so only the re-check can end them.
"""

from __future__ import annotations

import json
import struct
import time

import pytest
import requests
import websocket

from ..conftest import ADMIN, ADMIN_PASSWORD
from ..streaming.sse_client import SSEStream

RECHECK = 0.5
# Long enough to outlive every test here; each test cancels what it starts.
TICKER = "for i in $(seq 1 600); do echo tick-$i; sleep 0.1; done"


@pytest.fixture
def live(make_server):
    return make_server(credential_recheck_seconds=RECHECK, sse_heartbeat_seconds=60)


def _user_token(live, name: str, role: str = "operator") -> dict:
    """A new user with `role` and an API token of theirs: {"id", "token"}."""
    created = live.api("POST", "/api/users", json={"name": name, "role": role, "password": f"{name} password"})
    assert created.status_code == 201, created.text
    token = live.api("POST", "/api/tokens", json={"user": name, "name": "connection test"})
    assert token.status_code == 201, token.text
    return token.json()


def _start_ticker(live) -> str:
    body = {"targets": ["localhost"], "command": TICKER, "expertMode": True}
    response = live.run("/api/commands", body)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _ws(live, header: list[str]) -> websocket.WebSocket:
    return websocket.create_connection(live.url.replace("http://", "ws://") + "/api/ws", timeout=10, header=header)


def _hang_up(ws) -> None:
    """Close the client's side; after the server's close frame websocket-client leaves its socket open."""
    ws.close()
    ws.shutdown()


def _until_close(ws) -> tuple[list[dict], int, str]:
    """Messages received until the server's close frame, and that frame's (code, reason)."""
    messages = []
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
            return messages, code, data[2:].decode()
        if opcode == websocket.ABNF.OPCODE_TEXT:
            messages.append(json.loads(data))


def test_connection_websocket_subscribe_after_token_revoked_closes_1008(live):
    """Bug (issue 11): an open WebSocket kept subscribing to new executions after its token was revoked."""
    token = _user_token(live, "ws-revoked")
    ws = _ws(live, [f"Authorization: Bearer {token['token']}"])
    try:
        assert live.api("DELETE", f"/api/tokens/{token['id']}").status_code == 200
        execution_id = _start_ticker(live)
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
        messages, code, reason = _until_close(ws)
    finally:
        _hang_up(ws)
    assert [m["type"] for m in messages] == ["error"], messages
    assert messages[0]["code"] == "unauthenticated" and "revoked" in messages[0]["message"]
    assert code == 1008 and reason == "credential revoked"
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_connection_websocket_forwarding_stops_when_user_deleted(live):
    """Bug (issue 11): an open WebSocket kept receiving an execution's output after its user was deleted."""
    token = _user_token(live, "ws-deleted", role="viewer")
    execution_id = _start_ticker(live)
    ws = _ws(live, [f"Authorization: Bearer {token['token']}"])
    try:
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
        assert json.loads(ws.recv())["type"] == "subscription_confirmed"
        while json.loads(ws.recv()).get("type") != "stdout":
            pass  # output is flowing
        assert live.api("DELETE", "/api/users/ws-deleted").status_code == 204
        deleted_at = time.monotonic()
        messages, code, _ = _until_close(ws)  # no message sent: the periodic check must find it
        closed_after = time.monotonic() - deleted_at
    finally:
        _hang_up(ws)
    assert code == 1008
    assert messages[-1]["type"] == "error" and messages[-1]["code"] == "unauthenticated", messages[-1]
    assert closed_after < RECHECK + 3, closed_after
    assert live.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_connection_websocket_session_ended_by_logout_closes_1008(live):
    """Bug (issue 11): a cookie-authenticated WebSocket outlived the session it was opened with."""
    session = requests.Session()
    login = session.post(live.url + "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.text
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    ws = _ws(live, [f"Cookie: {cookie}"])
    try:
        execution_id = _start_ticker(live)
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
        assert json.loads(ws.recv())["type"] == "subscription_confirmed"
        logout = session.post(live.url + "/api/auth/logout", headers={"X-CSRF-Token": login.json()["csrfToken"]})
        assert logout.status_code == 204
        ws.send(json.dumps({"type": "unsubscribe", "executionId": execution_id}))
        messages, code, _ = _until_close(ws)
    finally:
        _hang_up(ws)
        session.close()
    assert code == 1008 and messages[-1]["code"] == "unauthenticated"
    assert "unsubscribed" not in [m["type"] for m in messages]  # refused, not obeyed
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_connection_websocket_with_valid_credential_stays_open(live):
    """The re-check must not end a socket whose credential is still good (several check intervals)."""
    token = _user_token(live, "ws-valid", role="viewer")
    execution_id = _start_ticker(live)
    ws = _ws(live, [f"Authorization: Bearer {token['token']}"])
    try:
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
        deadline = time.monotonic() + 4 * RECHECK
        ticks = 0
        while time.monotonic() < deadline:
            ticks += json.loads(ws.recv()).get("type") == "stdout"
        ws.send(json.dumps({"type": "unsubscribe", "executionId": execution_id}))
        while json.loads(ws.recv())["type"] != "unsubscribed":
            pass
    finally:
        _hang_up(ws)
    assert ticks >= 5
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def _stream_until_closed(live, execution_id: str, headers: dict[str, str], end) -> tuple[SSEStream, float, list]:
    """Open the execution's SSE stream, call `end()` once events flow; (stream, seconds to close, frames)."""
    stream = SSEStream(f"{live.url}/api/executions/{execution_id}/stream", headers=headers, timeout=20)
    assert stream.status == 200
    frames, ended_at = [], None
    for frame in stream.frames():
        frames.append(frame)
        if ended_at is None and frame.event == "stdout":
            end()
            ended_at = time.monotonic()
    return stream, time.monotonic() - ended_at, frames


@pytest.mark.parametrize("end_with", ["revoke", "delete"])
def test_connection_sse_stream_closed_after_token_revoked_or_user_deleted(live, end_with):
    """Bug (issue 11): an SSE stream kept sending output for the whole execution after its token was
    revoked or its user deleted; now it ends within the re-check interval, and reconnecting is refused."""
    token = _user_token(live, f"sse-{end_with}", role="viewer")
    headers = {"Authorization": f"Bearer {token['token']}"}
    execution_id = _start_ticker(live)

    def end() -> None:
        if end_with == "revoke":
            assert live.api("DELETE", f"/api/tokens/{token['id']}").status_code == 200
        else:
            assert live.api("DELETE", f"/api/users/sse-{end_with}").status_code == 204

    stream, seconds, frames = _stream_until_closed(live, execution_id, headers, end)
    stream.close()
    assert stream.closed_by_server and seconds < RECHECK + 3, seconds
    assert frames[-1].comment and frames[-1].comment.startswith("closed: "), frames[-1]
    assert "complete" not in [f.event for f in frames]  # ended by the check, not by the execution
    again = SSEStream(f"{live.url}/api/executions/{execution_id}/stream", headers=headers)
    assert again.status == 401
    again.close()
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_connection_sse_stream_of_a_session_closed_after_role_change(live):
    """Bug (issue 11): a role change ends the user's sessions, but their open SSE stream went on."""
    _user_token(live, "sse-downgraded", role="operator")
    session = requests.Session()
    credentials = {"username": "sse-downgraded", "password": "sse-downgraded password"}
    login = session.post(live.url + "/api/auth/login", json=credentials)
    assert login.status_code == 200, login.text
    headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}
    session.close()
    execution_id = _start_ticker(live)

    def end() -> None:
        assert live.api("PATCH", "/api/users/sse-downgraded", json={"role": "viewer"}).status_code == 200

    stream, seconds, frames = _stream_until_closed(live, execution_id, headers, end)
    stream.close()
    assert stream.closed_by_server and seconds < RECHECK + 3, seconds
    assert "complete" not in [f.event for f in frames]
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_connection_sse_stream_with_valid_credential_runs_to_complete(live):
    """The re-check must not end a stream whose credential is still good: it runs to `complete`."""
    token = _user_token(live, "sse-valid", role="viewer")
    command = "for i in $(seq 1 20); do echo t$i; sleep 0.1; done"  # 2 s: four re-checks
    body = {"targets": ["localhost"], "command": command, "expertMode": True}
    execution_id = live.run("/api/commands", body).json()["executionId"]
    headers = {"Authorization": f"Bearer {token['token']}"}
    stream = SSEStream(f"{live.url}/api/executions/{execution_id}/stream", headers=headers)
    events = [f.event for f in stream.events()]
    stream.close()
    assert events[-1] == "complete" and events.count("stdout") >= 1
