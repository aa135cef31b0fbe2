"""4. Idle streams: N SSE streams held open on a running execution with heartbeats; RSS per stream."""

from __future__ import annotations

import time

from ..result import Row, ScenarioResult
from ..server import BenchServer

TITLE = "Idle streams (heartbeats only)"
PER_STREAM_LIMIT_KIB = 50.0


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["idle"]
    n = p["streams"]
    result = ScenarioResult("idle", TITLE)
    settings = {"sse_heartbeat_seconds": p["heartbeat_seconds"], "execution_timeout_seconds": 3600}
    with ctx.server(BenchServer(**settings)) as server:
        server.run_command("true", ["localhost"], wait=True)
        execution = server.run_command("sleep 600", ["localhost"])["executionId"]
        path = f"/api/executions/{execution}/stream"
        streams = server.stream_set()
        try:
            streams.open(path, 1, keep=False)  # one stream first, so the baseline has a stream's shared state
            streams.run_for(0.5)
            rss_before = server.rss_kib()
            started = time.perf_counter()
            held = streams.open(path, n, keep=False)
            open_seconds = time.perf_counter() - started
            pings_before = sum(s.pings for s in held)
            streams.run_for(p["hold_seconds"])
            rss_after = server.rss_kib()
            subscribers = server.subscribers()
            pinged = sum(1 for s in held if s.pings > 0)
            alive = sum(1 for s in held if not s.closed)
        finally:
            server.request("POST", f"/api/executions/{execution}/cancel")
            streams.close()
    per_stream = (rss_after - rss_before) / n
    result.figures.update({
        "streams": n, "open_seconds": round(open_seconds, 2), "rss_kib_before": rss_before,
        "rss_kib_after": rss_after, "kib_per_stream": round(per_stream, 2), "subscribers_seen": subscribers,
        "streams_alive": alive, "streams_pinged": pinged, "pings_during_open": pings_before,
        "heartbeat_seconds": p["heartbeat_seconds"],
    })
    result.baseline.update({"what": "server RSS with one stream open, before the N streams", "rss_kib": rss_before})
    result.rows += [
        Row(f"{n} streams held, all pinged", pinged, n, "streams", "all", pinged == n and alive == n),
        Row("server RSS", round(rss_after / 1024, 1), round(rss_before / 1024, 1), "MiB"),
        Row("RSS per stream", round(per_stream, 2), None, "KiB", f"< {PER_STREAM_LIMIT_KIB:g}",
            per_stream < PER_STREAM_LIMIT_KIB),
    ]
    return result
