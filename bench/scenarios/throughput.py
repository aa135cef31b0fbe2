"""2. Throughput: a command writes N MB; MB/s to one SSE client, wall time against bolt -> /dev/null."""

from __future__ import annotations

import json
import time

from ..result import Row, ScenarioResult
from ..server import BenchServer, direct_argv, emit_command, run_direct
from ..sse import parse_response

TITLE = "Throughput (one SSE client)"
RATIO_LIMIT = 1.5
TIMEOUT_SECONDS = 600


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["throughput"]
    total, line_bytes, runs = p["bytes"], p["line_bytes"], p["runs"]
    command = emit_command("bulk", "--bytes", str(total), "--line-bytes", str(line_bytes))
    result = ScenarioResult("throughput", TITLE)
    direct, timed = [], []
    with ctx.server(BenchServer(max_output_bytes=max(10 * 1024 * 1024, 2 * total))) as server:
        server.run_command("true", ["localhost"], wait=True)
        for _ in range(runs):  # interleaved, so that other load on the machine hits both alike
            direct.append(run_direct(direct_argv(command, ["localhost"])))
            cpu_before = server.cpu_seconds()
            run = _stream_one(server, command)
            run["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 2)
            timed.append(run)
    # The pace (one event per BOLTDECK_STREAM_COALESCE_MS under sustained load) off: its effect
    with ctx.server(BenchServer(max_output_bytes=max(10 * 1024 * 1024, 2 * total), stream_coalesce_ms=0)) as server:
        server.run_command("true", ["localhost"], wait=True)
        unpaced = _stream_one(server, command)
    # Counted without newlines: the real Bolt adds one at each of its 4,096-byte reads
    expected = total - total // line_bytes
    best = min(timed, key=lambda r: r["wall_seconds"])
    wall, direct_s = best["wall_seconds"], min(direct)
    ratio = wall / direct_s
    result.baseline.update({"what": "the same bolt invocation run directly, stdout to /dev/null",
                            "wall_seconds": [round(d, 3) for d in direct], "best_s": round(direct_s, 3)})
    result.figures.update({"output_bytes": total, "line_bytes": line_bytes, "runs": timed, "pace_off": unpaced,
                           "ratio_best": round(ratio, 3),
                           "mb_per_s_best": round(best["stdout_bytes"] / 1e6 / wall, 2)})
    result.rows += [
        Row(f"{total / 1e6:g} MB: wall time (best of {runs})", round(wall, 3), round(direct_s, 3), "s",
            f"<= {RATIO_LIMIT:g}x baseline", ratio <= RATIO_LIMIT),
        Row("ratio to baseline", round(ratio, 2), 1.0, "x"),
        Row("stdout delivered to the client (newlines aside)", round(best["stdout_chars"] / 1e6, 2),
            round(expected / 1e6, 2), "MB", "all", all(r["stdout_chars"] == expected for r in timed)),
        Row("rate to the client", round(best["stdout_bytes"] / 1e6 / wall, 2), round(total / 1e6 / direct_s, 2), "MB/s"),
        Row("last stdout event at", best["last_stdout_s"], None, "s"),
        Row("server CPU", best["server_cpu_s"], None, "s"),
        Row("stdout events", best["stdout_events"], None, "events"),
        Row("pace off (info): wall time", unpaced["wall_seconds"], round(direct_s, 3), "s"),
        Row("pace off (info): stdout events", unpaced["stdout_events"], None, "events"),
    ]
    return result


def _stream_one(server: BenchServer, command: str) -> dict:
    """One POST answered with the execution's SSE stream ("exec stream"); times taken as bytes arrive."""
    streams = server.stream_set()
    body = json.dumps({"targets": ["localhost"], "expertMode": True, "command": command}).encode()
    started_ns = time.time_ns()
    try:
        streams.open("/api/commands", 1, method="POST", body=body)
        if not streams.run_until_closed(TIMEOUT_SECONDS):
            raise TimeoutError("the stream did not end in time")
    finally:
        streams.close()
    stream = streams.streams[0]
    _, _, frames = parse_response(stream.chunks)
    stdout = [f for f in frames if f.event == "stdout"]
    complete = next((f for f in frames if f.event == "complete"), None)
    if complete is None:
        raise RuntimeError("the stream ended without a complete event")
    return {
        "wall_seconds": round((complete.arrived_ns - started_ns) / 1e9, 3),
        "last_stdout_s": round((stdout[-1].arrived_ns - started_ns) / 1e9, 3) if stdout else None,
        "stdout_bytes": sum(len(f.json["data"]["text"].encode()) for f in stdout),
        "stdout_chars": sum(len(text) - text.count("\n") for text in (f.json["data"]["text"] for f in stdout)),
        "stdout_events": len(stdout),
        "sse_bytes": stream.received,
        "status": complete.json["data"]["status"],
    }
