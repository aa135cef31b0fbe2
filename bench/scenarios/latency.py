"""1. Line latency: timestamped lines (sparse and bursts) from print to SSE arrival, against the pipe floor."""

from __future__ import annotations

from ..lines import boltdeck_run, bolt_direct_run, floor_run
from ..result import Row, ScenarioResult
from ..server import BenchServer
from ..stats import summary

TITLE = "Line latency (print -> SSE arrival)"
P50_SLACK_MS = 2.0
P99_LIMIT_MS = 10.0


def patterns(p: dict) -> dict[str, tuple[list[str], int]]:
    return {
        "sparse": (["sparse", "--count", str(p["sparse_lines"]), "--interval-ms", str(p["interval_ms"])],
                   p["sparse_lines"]),
        "burst": (["burst", "--bursts", str(p["bursts"]), "--lines", str(p["burst_lines"]),
                   "--gap-ms", str(p["gap_ms"])], p["bursts"] * p["burst_lines"]),
    }


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["latency"]
    result = ScenarioResult("latency", TITLE)
    result.baseline["what"] = (
        "floor: the same emitter spawned directly, lines timed off its pipe; "
        "bolt_direct: the same bolt invocation spawned directly, its stream lines timed off bolt's stdout"
    )
    with ctx.server(BenchServer()) as server:
        server.run_command("true", ["localhost"], wait=True)  # warm the inventory cache and the reaper
        for name, (args, lines) in patterns(p).items():
            floor = summary(floor_run(args, lines))
            direct = summary(bolt_direct_run(args, lines))
            result.baseline[name] = {"floor": floor, "bolt_direct": direct}
            for subscribers in p["subscribers"]:
                timed = boltdeck_run(server, args, lines, subscribers)
                figures = summary(timed.all_latencies)
                figures["all_received"] = timed.everyone_got_everything
                figures["stdout_events"] = timed.stdout_events
                result.figures[f"{name}_{subscribers}"] = figures
                label = f"{name}, {subscribers} sub"
                result.rows.append(Row(f"{label}: p50", figures["p50"], floor["p50"], "ms",
                                       f"<= floor + {P50_SLACK_MS:g}", figures["p50"] <= floor["p50"] + P50_SLACK_MS))
                result.rows.append(Row(f"{label}: p95", figures["p95"], floor["p95"], "ms"))
                result.rows.append(Row(f"{label}: p99", figures["p99"], floor["p99"], "ms",
                                       f"< {P99_LIMIT_MS:g}", figures["p99"] < P99_LIMIT_MS))
                if not timed.everyone_got_everything:
                    result.notes.append(f"{label}: not every subscriber received every line")
                    result.rows.append(Row(f"{label}: all lines received", 0, 1, "bool", "all", False))
            result.rows.append(Row(f"{name}: bolt direct p50 (info)", None, direct["p50"], "ms"))
    # Output is coalesced by backpressure; a pace of one event per BOLTDECK_STREAM_COALESCE_MS
    # (default 5 ms) applies only under sustained load, after a burst allowance. The same
    # bursts with the pace off (0) show what the pace costs them, and how many events it saves.
    args, lines = patterns(p)["burst"]
    with ctx.server(BenchServer(stream_coalesce_ms=0)) as server:
        server.run_command("true", ["localhost"], wait=True)
        unpaced = boltdeck_run(server, args, lines, 1)
    figures = {**summary(unpaced.all_latencies), "stdout_events": unpaced.stdout_events}
    result.figures["burst_1_pace_off"] = figures
    floor = result.baseline["burst"]["floor"]
    result.rows.append(Row("burst, 1 sub, pace off (info): p50", figures["p50"], floor["p50"], "ms"))
    result.rows.append(Row("burst, 1 sub, pace off (info): p99", figures["p99"], floor["p99"], "ms"))
    result.rows.append(Row("burst, 1 sub: stdout events, paced / pace off (info)",
                           result.figures["burst_1"]["stdout_events"], figures["stdout_events"], "events"))
    return result
