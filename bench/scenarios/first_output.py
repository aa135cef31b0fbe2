"""7. Time to first output: run request -> first `stdout` event, against bolt's own start-up to first line."""

from __future__ import annotations

import json
import os
import subprocess
import time

from boltdeck.bolt.cli import bolt_environment

from ..result import Row, ScenarioResult
from ..server import BenchServer, bolt_project, direct_argv
from ..sse import parse_response
from ..stats import median, percentile

TITLE = "Time to first output"
SLACK_MS = 20.0
COMMAND = "echo ready"


def direct_first_line(argv: list[str], timeout: float = 60) -> float:
    """Spawn bolt directly; seconds until its first stream line is on the pipe."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=bolt_environment(), cwd=bolt_project())
    buffer, first = b"", None
    deadline = time.monotonic() + timeout
    while first is None and time.monotonic() < deadline:
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            break
        buffer += data
        if b"] out: " in buffer:
            first = time.perf_counter() - started
    proc.stdout.read()
    proc.wait(timeout=30)
    if first is None:
        raise RuntimeError("bolt printed no stream line")
    return first


def boltdeck_first_output(server: BenchServer) -> float:
    """One POST answered with the execution's SSE stream; seconds until the first stdout event."""
    body = json.dumps({"targets": ["localhost"], "command": COMMAND, "expertMode": True}).encode()
    streams = server.stream_set()
    started_ns = time.time_ns()
    try:
        streams.open("/api/commands", 1, method="POST", body=body)
        streams.run_until_closed(60)
    finally:
        streams.close()
    _, _, frames = parse_response(streams.streams[0].chunks)
    first = next(f for f in frames if f.event == "stdout")
    return (first.arrived_ns - started_ns) / 1e9


def run(profile: dict, ctx) -> ScenarioResult:
    runs, warmup = profile["first_output"]["runs"], profile["first_output"]["warmup"]
    result = ScenarioResult("first_output", TITLE)
    argv = direct_argv(COMMAND, ["localhost"])
    direct, boltdeck = [], []
    with ctx.server(BenchServer()) as server:
        for _ in range(warmup):
            server.run_command(COMMAND, ["localhost"], wait=True)
            direct_first_line(argv)
        for _ in range(runs):
            direct.append(direct_first_line(argv) * 1000)
            boltdeck.append(boltdeck_first_output(server) * 1000)
    d, b = median(direct), median(boltdeck)
    d_best, b_best = min(direct), min(boltdeck)
    result.baseline.update({"what": "the same bolt invocation spawned directly: spawn -> first stream line on its pipe",
                            "ms": [round(x, 2) for x in direct], "median_ms": round(d, 2), "best_ms": round(d_best, 2)})
    result.figures.update({"ms": [round(x, 2) for x in boltdeck], "median_ms": round(b, 2), "best_ms": round(b_best, 2),
                           "p95_ms": round(percentile(boltdeck, 95), 2), "added_median_ms": round(b - d, 2),
                           "added_best_ms": round(b_best - d_best, 2)})
    result.rows += [
        Row(f"request -> first stdout event (best of {runs})", round(b_best, 1), round(d_best, 1), "ms",
            f"< baseline + {SLACK_MS:g}", b_best < d_best + SLACK_MS),
        Row("request -> first stdout event (median)", round(b, 1), round(d, 1), "ms", f"< baseline + {SLACK_MS:g}",
            b < d + SLACK_MS),
        Row("added by Boltdeck (best / median)", round(b_best - d_best, 1), round(b - d, 1), "ms"),
    ]
    return result
