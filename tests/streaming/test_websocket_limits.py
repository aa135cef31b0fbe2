"""WebSocket robustness (issue 11): size limit, malformed messages, and a handler that fails."""

from __future__ import annotations

import json
import select
import socket
import struct

import websocket

from ..pg import run_sql

MIB = 1024 * 1024


def _connect(live) -> websocket.WebSocket:
    url = live.url.replace("http://", "ws://") + "/api/ws"
    return websocket.create_connection(url, timeout=10, header=[f"Authorization: Bearer {live.token}"])


def _hang_up(ws) -> None:
    """Close the client's side; after the server's close frame websocket-client leaves its socket open."""
    ws.close()
    ws.shutdown()


def _close_frame(ws) -> tuple[int | None, str, list]:
    """Read until the server's close frame: (code, reason, the messages before it).

    Frames are read raw: the server may reset the connection right after its close frame (it
    stops reading a message that is too big), so the client's close reply could fail.
    """
    messages = []
    while True:
        frame = ws.recv_frame()
        if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
            data = frame.data
            return (struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None), data[2:].decode(), messages
        if frame.opcode == websocket.ABNF.OPCODE_TEXT:
            messages.append(frame.data)


def _memory_kib(pid: int) -> dict[str, int]:
    """The server process's resident (VmRSS) and peak resident (VmHWM) memory, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) for name, value in fields.items()}


def _send_huge_message(ws, size: int) -> int:
    """Send one text frame announcing `size` bytes, 64 KiB at a time, until the server answers; bytes sent."""
    raw = ws.sock
    raw.sendall(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", size) + b"\0\0\0\0")  # a zero mask key
    chunk, sent = b"a" * 65536, 0
    raw.settimeout(2)
    while sent < size and not select.select([raw], [], [], 0)[0]:
        try:
            raw.sendall(chunk)
        except (socket.timeout, OSError):  # the server stopped reading: its close frame is on its way
            break
        sent += len(chunk)
    raw.settimeout(10)
    return sent


def test_websocket_100mb_message_closes_1009_with_bounded_memory(make_server):
    """Bug (issue 11): WebSocket messages had no size limit; one unfinished 384 MB message from a
    viewer held 384 MB of server memory. Now the socket closes (1009) once 64 KiB arrived."""
    live = make_server()
    ws = _connect(live)
    try:
        before = _memory_kib(live.proc.pid)
        sent = _send_huge_message(ws, 100 * MIB)
        code, reason, _ = _close_frame(ws)
        after = _memory_kib(live.proc.pid)
    finally:
        _hang_up(ws)
    assert code == 1009, (code, reason)
    assert sent < 100 * MIB
    grown_mib = {name: (after[name] - before[name]) / 1024 for name in after}
    assert grown_mib["VmHWM"] < 8 and grown_mib["VmRSS"] < 8, grown_mib
    assert live.api("GET", "/api/health").status_code == 200


def test_websocket_message_size_limit_is_a_setting(make_server):
    """BOLTDECK_WS_MAX_MESSAGE_BYTES: a message at the limit is read, one byte more closes the socket (1009)."""
    live = make_server(ws_max_message_bytes=4096)
    ws = _connect(live)
    try:
        message = {"type": "subscribe", "executionId": "0" * 32, "pad": ""}
        message["pad"] = "x" * (4096 - len(json.dumps(message)))
        ws.send(json.dumps(message))
        assert json.loads(ws.recv())["code"] == "not_found"
        message["pad"] += "x"
        ws.send(json.dumps(message))
        code, _, messages = _close_frame(ws)
    finally:
        _hang_up(ws)
    assert code == 1009 and messages == []


def test_websocket_deep_json_answers_an_error_and_keeps_the_socket(server):
    """Bug (issue 11): a message nested ~1,000 deep killed the WebSocket handler, which then wrote an
    HTTP 500 into the socket. Now it is answered `invalid_json` and the socket goes on."""
    ws = _connect(server)
    try:
        ws.send("[" * 1000 + "]" * 1000)
        error = json.loads(ws.recv())
        assert error == {
            "type": "error",
            "code": "invalid_json",
            "message": "the message nests arrays and objects more than 32 levels deep",
        }
        ws.send(json.dumps({"type": "subscribe", "executionId": "0" * 32}))
        assert json.loads(ws.recv())["code"] == "not_found"
    finally:
        _hang_up(ws)
    assert "RecursionError" not in server.log_path.read_text()


def test_websocket_malformed_messages_are_answered_and_keep_the_socket(server):
    """Binary frames, non-objects, bad encodings and wrong types each get an error naming the problem."""
    ws = _connect(server)
    cases = [
        (lambda: ws.send_binary(b'{"type": "subscribe", "executionId": "x"}'), "invalid_message", "binary"),
        (lambda: ws.send("[1, 2]"), "invalid_message", "got a JSON array"),
        (lambda: ws.send("null"), "invalid_message", "got a JSON null"),
        (lambda: ws.send('{"type": "subscribe", '), "invalid_json", "not valid JSON"),
        (lambda: ws.send('{"type": "subscribe", "executionId": "\\ud800"}'), "invalid_json", "surrogate"),
        (lambda: ws.send('{"type": "subscribe", "executionId": 7}'), "validation_error", "executionId"),
        (lambda: ws.send('{"type": ["subscribe"]}'), "unknown_type", "known: subscribe"),
    ]
    try:
        for send, code, words in cases:
            send()
            error = json.loads(ws.recv())
            assert error["type"] == "error" and error["code"] == code and words in error["message"], (code, error)
        ws.send(json.dumps({"type": "unsubscribe", "executionId": "0" * 32}))
        assert json.loads(ws.recv()) == {"type": "unsubscribed", "executionId": "0" * 32}
    finally:
        _hang_up(ws)


def test_websocket_handler_failure_closes_1011_not_an_http_500(make_server):
    """Bug (issue 11): an exception escaping the WebSocket handler made flask-sock write an HTTP 500
    into the upgraded socket. Now the socket is closed with 1011 (here the store fails while the
    socket's credential is checked again)."""
    live = make_server()
    ws = _connect(live)
    try:
        run_sql(live.env["BOLTDECK_DATABASE_URL"], "ALTER TABLE api_tokens RENAME TO api_tokens_gone")
        ws.send(json.dumps({"type": "subscribe", "executionId": "0" * 32}))
        code, reason, messages = _close_frame(ws)
    finally:
        _hang_up(ws)
    assert code == 1011 and reason == "internal server error" and messages == []
    assert "WebSocket handler failed" in live.log_path.read_text()
