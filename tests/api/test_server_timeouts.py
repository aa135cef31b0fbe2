"""`boltdeck serve` drops slow and idle clients, never live streams, and caps connections (issue 11)."""

from __future__ import annotations

import json
import os
import select
import socket
import time
from contextlib import ExitStack

import requests
import websocket

from ..streaming.sse_client import SSEStream
from .helpers import wait_until

HALF_SENT = {  # what each kind of slow client sent before it stalled
    "nothing": b"",
    "headers": b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Pad: ",
    "body": b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n{",
}


def _connect(server, stack: ExitStack, sent: bytes = b"") -> socket.socket:
    sock = stack.enter_context(socket.create_connection(("127.0.0.1", _port(server)), timeout=30))
    if sent:
        sock.sendall(sent)
    return sock


def _port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _until_closed(sock: socket.socket, deadline: float) -> bytes | None:
    """Everything the server sends until it closes the connection; None if it is still open at `deadline`."""
    received = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def test_server_drops_half_sent_requests_and_keeps_answering(make_server):
    """Bug (issue 11): idle and half-sent connections were never timed out; 1,100 half-sent requests
    (no login needed) left normal requests unanswered."""
    server = make_server(request_read_timeout_seconds=4)
    with ExitStack() as stack:
        stalled = {kind: [_connect(server, stack, sent) for _ in range(100)] for kind, sent in HALF_SENT.items()}
        started = time.monotonic()
        answer = requests.get(server.url + "/api/health", timeout=3)  # before any stalled one is dropped
        assert answer.status_code == 200
        deadline = started + 4 + 10
        endings = {kind: [_until_closed(sock, deadline) for sock in socks] for kind, socks in stalled.items()}
    assert None not in endings["nothing"] and set(endings["nothing"]) == {b""}  # nothing sent: closed silently
    for kind in ("headers", "body"):
        assert None not in endings[kind], f"{kind}: connections still open"
        head, _, body = endings[kind][0].partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in head
        assert json.loads(body)["error"]["code"] == "request_timeout"


def test_server_deadline_counts_the_whole_request(make_server):
    """A client trickling a header line every 0.2 s never lets a read wait long, yet is dropped at the deadline."""
    server = make_server(request_read_timeout_seconds=1)
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=5) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        started, answer = time.monotonic(), b""
        while time.monotonic() - started < 10 and not answer:
            try:
                sock.sendall(b"X-Pad: y\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            if select.select([sock], [], [], 0.2)[0]:
                answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert time.monotonic() - started < 5


def test_server_closes_idle_keepalive_connections(make_server):
    """Bug (issue 11): a kept-alive connection idled forever; now it gets the keep-alive timeout, then is closed."""
    server = make_server(keepalive_timeout_seconds=1.5)
    request = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        file = sock.makefile("rb")
        try:
            for _ in range(2):  # reused within the timeout: still open
                sock.sendall(request)
                assert file.readline().startswith(b"HTTP/1.1 200")
                headers = dict(line.rstrip().lower().split(b": ", 1) for line in iter(file.readline, b"\r\n"))
                file.read(int(headers[b"content-length"]))
                time.sleep(0.5)
            idle_from = time.monotonic()
            assert file.read(1) == b""  # closed by the server
            assert 0.5 <= time.monotonic() - idle_from < 5
        finally:
            file.close()


def test_server_timeouts_never_cut_live_streams(make_server):
    """SSE streams and WebSockets that stay quiet longer than both timeouts keep flowing (heartbeats, events)."""
    server = make_server(request_read_timeout_seconds=1, keepalive_timeout_seconds=1, sse_heartbeat_seconds=0.5)
    body = {"targets": ["localhost"], "command": "sleep 3.5; echo still-here", "expertMode": True}
    execution_id = server.run("/api/commands", body).json()["executionId"]
    ws_url = server.url.replace("http://", "ws://") + "/api/ws"
    ws = websocket.create_connection(ws_url, timeout=30, header=[f"{k}: {v}" for k, v in server.auth.items()])
    try:
        with SSEStream(f"{server.url}/api/executions/{execution_id}/stream", headers=server.auth) as stream:
            frames = list(stream.frames())
        assert frames[-1].event == "complete" and frames[-1].arrived - frames[0].arrived > 3
        pings = [f.arrived for f in frames if f.comment == "ping"]
        assert len(pings) >= 4 and max(b - a for a, b in zip(pings, pings[1:])) < 1.5
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": 0}))  # quiet for 3.5 s until now
        assert json.loads(ws.recv())["type"] == "subscription_confirmed"
        texts = []
        while (message := json.loads(ws.recv()))["type"] != "complete":
            texts.append(message.get("data", {}).get("text"))
        assert "still-here\n" in texts
    finally:
        ws.close()


def _sockets_of(pid: int) -> int:
    """How many sockets a process holds open (Linux /proc)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def test_server_caps_connections_served_at_once(make_server):
    """Past BOLTDECK_MAX_CONNECTIONS clients wait to be accepted instead of taking the server's descriptors."""
    server = make_server(max_connections=10, request_read_timeout_seconds=1)
    before = _sockets_of(server.proc.pid)
    with ExitStack() as stack:
        for _ in range(30):
            _connect(server, stack, HALF_SENT["headers"])
        time.sleep(0.5)
        assert _sockets_of(server.proc.pid) - before <= 10
        # Every held slot frees within the read timeout, so the queue drains: a late client is served.
        assert requests.get(server.url + "/api/health", timeout=15).status_code == 200
    assert wait_until(lambda: _sockets_of(server.proc.pid) <= before, 10)


def _chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def test_server_reads_chunked_bodies_whole_and_refuses_oversized_ones(make_server):
    """Bodies are read before the app runs: a chunked one arrives intact; one past the limit is a 413, then closed."""
    server = make_server(max_request_bytes=4096)
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    login = json.dumps({"username": "nobody", "password": "wrong password"}).encode()
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(head + _chunked(login[:10], login[10:]))
        with sock.makefile("rb") as file:
            assert file.readline().startswith(b"HTTP/1.1 401 ")
            headers = dict(line.rstrip().lower().split(b": ", 1) for line in iter(file.readline, b"\r\n"))
            assert json.loads(file.read(int(headers[b"content-length"])))["error"]["code"] == "invalid_credentials"
            assert headers.get(b"connection") != b"close"
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(head + _chunked(b" " * 3000, b" " * 3000))
        answer = _until_closed(sock, time.monotonic() + 10)
    assert answer is not None and answer.startswith(b"HTTP/1.1 413 ")  # and closed: its rest is never read
