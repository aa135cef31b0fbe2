"""Through nginx with the shipped site (issue 12): live SSE lines as fast as direct, WebSockets work."""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path

import websocket

from ..conftest import ROOT
from ..streaming.sse_client import SSEStream

EMIT = ROOT / "bench" / "emit.py"
LINES = 40
INTERVAL_MS = 50
NGINX_ALLOWANCE = 0.005  # the hop nginx may add to the median line, in seconds


class LineTimer(threading.Thread):
    """Read one SSE stream to its end; each emitted line's latency (arrival - print), in order."""

    def __init__(self, stream: SSEStream):
        super().__init__(daemon=True)
        self.stream = stream
        self.subscribed = threading.Event()  # the first event arrived: the stream follows the log
        self.latencies: list[float] = []
        self.indexes: list[int] = []
        self.complete: dict | None = None

    def run(self) -> None:
        for frame in self.stream.events():
            self.subscribed.set()
            if frame.event == "stdout":
                for line in frame.json["data"]["text"].splitlines():  # "t=<ns> i=<index>"
                    printed, index = (int(part.split("=")[1]) for part in line.split())
                    self.latencies.append(frame.arrived - printed / 1e9)
                    self.indexes.append(index)
            if frame.event == "complete":
                self.complete = frame.json["data"]


def _start_emitter(deployment, go: Path) -> str:
    command = f"{sys.executable} {EMIT} sparse --count {LINES} --interval-ms {INTERVAL_MS} --go {go}"
    body = {"targets": ["localhost"], "command": command, "expertMode": True}
    response = deployment.web.api("POST", "/api/commands", json=body)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def test_nginx_sse_lines_as_fast_as_direct(deployment, tmp_path):
    go = tmp_path / "go"
    execution_id = _start_emitter(deployment, go)
    path = f"/api/executions/{execution_id}/stream"
    # The site must not compress event streams, even where gzip is on for them (see stack.MAIN_CONF).
    via_headers = {**deployment.web.auth, "Accept-Encoding": "gzip"}
    with SSEStream(deployment.web.url + path, headers=deployment.web.auth) as direct_stream, \
            SSEStream(deployment.nginx.url + path, headers=via_headers) as via_stream:  # fmt: skip
        assert (direct_stream.status, via_stream.status) == (200, 200)
        assert via_stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in via_stream.headers
        direct, via = LineTimer(direct_stream), LineTimer(via_stream)
        for timer in (direct, via):
            timer.start()
        assert direct.subscribed.wait(30) and via.subscribed.wait(30)
        go.touch()  # lines start once both streams follow the log: none is a replay
        for timer in (direct, via):
            timer.join(60)
    assert direct.indexes == via.indexes == list(range(LINES)), "a line was lost, repeated or reordered"
    assert direct.complete["status"] == via.complete["status"] == "success"
    p50_direct, p50_via = statistics.median(direct.latencies), statistics.median(via.latencies)
    print(f"\nSSE line latency p50: direct {p50_direct * 1e3:.2f} ms, through nginx {p50_via * 1e3:.2f} ms")
    assert p50_via - p50_direct < NGINX_ALLOWANCE, (direct.latencies, via.latencies)
    assert p50_via < 0.1  # and live: no batching anywhere on the way


def test_nginx_websocket_subscribe_receives_the_execution(deployment):
    nginx, web = deployment.nginx, deployment.web
    body = {"targets": ["localhost"], "command": "echo through-nginx; sleep 0.3; echo done", "expertMode": True}
    started = web.api("POST", "/api/commands", json=body, headers=web.auth)
    execution_id = started.json()["executionId"]
    # websocket-client sends the browser's Origin (http://127.0.0.1:<nginx port>): Boltdeck accepts
    # it only if nginx passed the Host the client used (X-Forwarded-Host, BOLTDECK_PROXY_HOPS=1).
    ws = websocket.create_connection(
        nginx.url.replace("http://", "ws://") + "/api/ws", timeout=30, header=[f"{k}: {v}" for k, v in web.auth.items()]
    )
    try:
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id, "after": 0}))
        messages = [json.loads(ws.recv())]
        while messages[-1].get("type") != "complete":
            messages.append(json.loads(ws.recv()))
    finally:
        ws.close()
    assert messages[0] == {"type": "subscription_confirmed", "executionId": execution_id, "after": 0}
    events = messages[1:]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert "".join(e["data"]["text"] for e in events if e["type"] == "stdout") == "through-nginx\ndone\n"


def test_nginx_run_request_answered_as_a_stream_stays_live(deployment):
    """The exec-stream style (POST answered with SSE) goes through `location /`: Boltdeck's own
    X-Accel-Buffering: no must keep it live there, and the server's `gzip off` uncompressed."""
    nginx, web = deployment.nginx, deployment.web
    body = json.dumps({"targets": ["localhost"], "command": "echo a; sleep 0.5; echo b", "expertMode": True}).encode()
    headers = {**web.auth, "Accept-Encoding": "gzip"}
    with SSEStream(nginx.url + "/api/commands", headers=headers, method="POST", body=body) as stream:
        assert stream.status == 200 and "content-encoding" not in stream.headers
        arrivals = {}
        for frame in stream.events():
            if frame.event == "stdout":
                arrivals[frame.json["data"]["text"]] = time.time()
    assert set(arrivals) == {"a\n", "b\n"}
    assert arrivals["b\n"] - arrivals["a\n"] > 0.3  # "a" came before "b" was printed: not buffered
