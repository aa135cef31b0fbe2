"""8. Scale-out: one execution's live lines to N viewers through gunicorn web workers, a runner,
PostgreSQL and Redis, beside the same viewers on one process (SQLite, in-process broker).

Both layouts are up at once and their runs interleave (one, scale-out, one, scale-out, ...), so
that a load elsewhere on the machine falls on both sides; percentiles pool every run's lines.
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import services
from ..lines import stamped_lines, stdout_pieces
from ..result import Row, ScenarioResult
from ..server import BenchServer, cpu_seconds, emit_command, rss_kib
from ..sse import StreamSet, parse_response
from ..stats import summary

TITLE = "Scale-out (gunicorn web workers + runner, PostgreSQL, Redis) beside one process"
SUBSCRIBE_TIMEOUT_SECONDS = 120
END_TIMEOUT_SECONDS = 120
RATIOS = {"p50": "p50", "p99": "p99", "Boltdeck CPU per delivery": "boltdeck_cpu_us_per_delivery",
          "CPU per delivery incl. PostgreSQL + Redis": "total_cpu_us_per_delivery"}


@dataclass
class Setup:
    """One layout under test: where the viewers connect, and which processes' CPU counts."""

    name: str
    server: BenchServer
    web_pids: list[int]  # the web tier: `boltdeck serve`, or gunicorn's master and its workers
    runner_pids: list[int] = field(default_factory=list)  # `boltdeck runner`; none on one process
    service_pids: Callable[[], list[int]] = list  # PostgreSQL's processes and Redis; none on one process


@dataclass
class Run:
    """What one run of one layout saw."""

    viewers: list[dict]  # per viewer: latencies, lost, duplicates, complete, status
    spread: dict[int, int]  # web process pid -> viewers it held
    rss_before: dict[int, int]  # KiB per web process, before the viewers subscribed
    rss_after: dict[int, int]
    cpu: dict[str, float]  # seconds per process group, go -> every stream ended
    live: float  # seconds, go -> every stream ended
    client_cpu: float
    rounds_ms: list[float]  # the client's read rounds


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["scaleout"]
    result = ScenarioResult("scaleout", TITLE)
    absent = services.missing()
    if absent:  # not an error: every other scenario's figures stand without it
        result.notes.append(f"skipped: {absent}")
        result.figures["skipped"] = absent
        return result
    with contextlib.ExitStack() as stack:
        one = stack.enter_context(ctx.server(BenchServer()))
        database = stack.enter_context(services.postgres())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="boltdeck-bench-redis-")))
        broker = stack.enter_context(services.redis(folder))
        web = stack.enter_context(ctx.server(services.GunicornBench(
            p["workers"], database_url=database.url, broker_url=broker.url, role="web")))
        runner = stack.enter_context(services.Runner(web))
        setups = [Setup("one process", one, [one.pid]),
                  Setup(f"{p['workers']} web workers + runner", web, web.pids(), [runner.pid],
                        lambda: database.pids() + broker.pids())]
        for setup in setups:  # the first run of each pays `bolt inventory show`
            setup.server.run_command("true", ["localhost"], wait=True)
        runs: dict[str, list[Run]] = {setup.name: [] for setup in setups}
        for _ in range(p["rounds"]):
            for setup in setups:
                runs[setup.name].append(_measure(setup, p))
    lines = _lines(p)
    _report(result, p, *(_figures(setup.name, runs[setup.name], p["viewers"], lines) for setup in setups))
    return result


def _lines(p: dict) -> int:
    return round(p["seconds"] * 1000 / p["interval_ms"])


def _measure(setup: Setup, p: dict) -> Run:
    """Attach the viewers to a new execution, release its emitter, read every stream to its end."""
    server, n, lines = setup.server, p["viewers"], _lines(p)
    with tempfile.TemporaryDirectory(prefix="bench-go-") as tmp:
        go = os.path.join(tmp, "go")
        emit = emit_command("sparse", "--count", str(lines), "--interval-ms", str(p["interval_ms"]), "--go", go)
        execution = server.run_command(emit, ["localhost"])["executionId"]
        rss_before = {pid: rss_kib(pid) for pid in setup.web_pids}
        streams = _TimedStreams(server.port, headers=server.auth_headers)
        try:
            streams.open(f"/api/executions/{execution}/stream", n)
            spread = _wait_subscribed(server, n)
            rss_after = {pid: rss_kib(pid) for pid in setup.web_pids}
            cpu = _CpuMeter({"web": lambda: setup.web_pids, "runner": lambda: setup.runner_pids,
                             "services": setup.service_pids})
            client_before = time.process_time()
            streams.rounds_ms.clear()
            gc.disable()  # the client keeps every chunk it reads: a full collection would stall its reads
            started = time.perf_counter()
            open(go, "w").close()
            if not streams.run_until_closed(p["seconds"] + END_TIMEOUT_SECONDS):
                raise TimeoutError(f"{setup.name}: the streams did not end in time")
            live = time.perf_counter() - started
            client_cpu = time.process_time() - client_before
            spent = cpu.stop()
        finally:
            gc.enable()
            streams.close()
    viewers = [_viewer_lines(stream.chunks, lines) for stream in streams.streams]
    return Run(viewers, spread, rss_before, rss_after, spent, live, client_cpu, streams.rounds_ms)


def _wait_subscribed(server: BenchServer, n: int) -> dict[int, int]:
    """Wait until the cluster counts n subscribers; return them per web process (pid -> viewers).

    A worker answers with its own count and its siblings' as of their last heartbeat (a third of
    BOLTDECK_LEASE_SECONDS), so the sum can lag by one heartbeat.
    """
    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
    while True:
        _, body = server.request("GET", "/api/streaming/stats?scope=cluster")
        spread = {w["worker"]["pid"]: w.get("subscribers", {}).get("total", 0)
                  for w in body["workers"] if w["worker"]["role"] != "runner"}
        if sum(spread.values()) >= n:
            return spread
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sum(spread.values())} of {n} viewers subscribed: {spread}")
        time.sleep(0.1)


def _viewer_lines(chunks, expected: int) -> dict:
    """One viewer's stream: latency (ms) of each line index received, duplicates, whether it completed."""
    status, _, frames = parse_response(chunks)
    pieces, complete = stdout_pieces(frames)
    seen: dict[int, float] = {}
    duplicates = 0
    for index, printed, arrived in stamped_lines(pieces):
        if index in seen:
            duplicates += 1
        else:
            seen[index] = (arrived - printed) / 1e6
    lost = sum(1 for i in range(expected) if i not in seen)
    return {"status": status, "latencies": list(seen.values()), "lost": lost, "duplicates": duplicates,
            "complete": complete}


def _figures(name: str, runs: list[Run], n: int, lines: int) -> dict:
    """One layout's figures over all its runs: pooled percentiles, summed losses and CPU."""
    viewers = [v for r in runs for v in r.viewers]
    deliveries = sum(len(v["latencies"]) for v in viewers)
    spent = {group: sum(r.cpu[group] for r in runs) for group in runs[0].cpu}
    boltdeck = spent["web"] + spent["runner"]
    per_delivery = lambda seconds: round(seconds / max(1, deliveries) * 1e6, 1)  # noqa: E731
    first = runs[0]  # memory: the processes' growth the first time they hold the viewers
    live, client_cpu = sum(r.live for r in runs), sum(r.client_cpu for r in runs)
    return {
        "setup": name, "viewers": n, "lines": lines, "runs": len(runs),
        **summary([x for v in viewers for x in v["latencies"]]),
        "per_run": [summary([x for v in r.viewers for x in v["latencies"]]) for r in runs],
        "lines_lost": sum(v["lost"] for v in viewers), "duplicates": sum(v["duplicates"] for v in viewers),
        "viewers_complete": sum(v["complete"] for v in viewers),
        "statuses": sorted({v["status"] for v in viewers}),
        "deliveries": deliveries, "live_seconds": round(live, 3),
        "viewers_per_web_process": [sorted(r.spread.values()) for r in runs],
        # The processes that held viewers (not gunicorn's master, which only supervises).
        "rss_kib_per_web_process_before": [first.rss_before[pid] for pid in sorted(first.spread)],
        "rss_kib_per_web_process": [max(r.rss_after[pid] for r in runs) for pid in sorted(first.spread)],
        "kib_per_viewer": round(sum(first.rss_after[p] - first.rss_before[p] for p in first.spread) / n, 2),
        "cpu_s": {group: round(seconds, 3) for group, seconds in spent.items()},
        "web_cpu_us_per_delivery": per_delivery(spent["web"]),
        "boltdeck_cpu_us_per_delivery": per_delivery(boltdeck),
        "total_cpu_us_per_delivery": per_delivery(boltdeck + spent["services"]),
        "client": {"cpu_s": round(client_cpu, 3), "busy_pct": round(client_cpu / live * 100, 1),
                   "read_rounds_ms": summary([x for r in runs for x in r.rounds_ms])},
    }


class _TimedStreams(StreamSet):
    """The bench's SSE client, also timing its own work: each read round, from select() returning
    to the last recv() of that round. A line that arrives waits for the client at most the round
    in progress plus its own, so short rounds mean the client is not what the latencies measure."""

    def __init__(self, port: int, headers: dict[str, str]):
        super().__init__(port, headers=headers)
        self.selector = _Stopwatch(self.selector)
        self.rounds_ms: list[float] = []

    def pump(self, timeout: float) -> int:
        ready = super().pump(timeout)
        if ready:
            self.rounds_ms.append((time.perf_counter() - self.selector.returned) * 1000)
        return ready


class _Stopwatch:
    """A selector that notes when its select() returned."""

    def __init__(self, selector):
        self._selector = selector
        self.returned = 0.0

    def select(self, timeout: float):
        ready = self._selector.select(timeout)
        self.returned = time.perf_counter()
        return ready

    def __getattr__(self, name: str):
        return getattr(self._selector, name)


class _CpuMeter:
    """CPU seconds spent by groups of processes between construction and stop().

    Process lists are read at both ends, so that PostgreSQL backends forked meanwhile count
    from zero; a process that exits meanwhile loses its share (none does in this scenario).
    """

    def __init__(self, groups: dict[str, Callable[[], list[int]]]):
        self.groups = groups
        self.before = {name: self._sample(pids()) for name, pids in groups.items()}

    def stop(self) -> dict[str, float]:
        spent = {}
        for name, pids in self.groups.items():
            before, after = self.before[name], self._sample(pids())
            spent[name] = sum(after[pid] - before.get(pid, 0.0) for pid in after)
        return spent

    @staticmethod
    def _sample(pids: list[int]) -> dict[int, float]:
        found = {}
        for pid in pids:
            with contextlib.suppress(OSError):
                found[pid] = cpu_seconds(pid)
        return found


def _report(result: ScenarioResult, p: dict, one: dict, scaled: dict) -> None:
    n, workers = p["viewers"], p["workers"]
    ratio = lambda key: round(scaled[key] / one[key], 2) if one[key] else None  # noqa: E731
    result.figures.update({"scale_out": scaled, "workers": workers, "interval_ms": p["interval_ms"],
                           "ratios": {key: ratio(key) for key in RATIOS.values()}})
    result.baseline.update({"what": "the same viewers and execution on one `boltdeck serve` process "
                                    "(SQLite, in-process broker), runs interleaved with the scale-out's",
                            "one_process": one})
    spread = [count for per_run in scaled["viewers_per_web_process"] for count in per_run]
    runs = f"{p['rounds']} run{'s' if p['rounds'] > 1 else ''} each"
    result.rows += [
        Row(f"{n} viewers x {scaled['lines']} lines, {runs}: lines lost", scaled["lines_lost"], one["lines_lost"],
            "lines", "0", scaled["lines_lost"] == 0 and one["lines_lost"] == 0),
        Row("duplicated lines", scaled["duplicates"], one["duplicates"], "lines", "0", _whole(scaled) and _whole(one)),
        Row("p50 (print -> arrival)", scaled["p50"], one["p50"], "ms"),
        Row("p99 (print -> arrival)", scaled["p99"], one["p99"], "ms"),
        Row("web processes' CPU per delivery", scaled["web_cpu_us_per_delivery"], one["web_cpu_us_per_delivery"],
            "µs"),
        Row("Boltdeck CPU per delivery (web + runner)", scaled["boltdeck_cpu_us_per_delivery"],
            one["boltdeck_cpu_us_per_delivery"], "µs"),
        Row("CPU per delivery incl. PostgreSQL + Redis", scaled["total_cpu_us_per_delivery"],
            one["total_cpu_us_per_delivery"], "µs"),
        *(Row(f"scale-out / one process: {what}", ratio(key), 1, "x") for what, key in RATIOS.items()),
        Row(f"viewers per web process (fewest of {workers})", min(spread), n, "viewers"),
        Row(f"viewers per web process (most of {workers})", max(spread), n, "viewers"),
        Row("web process RSS (largest)", round(max(scaled["rss_kib_per_web_process"]) / 1024, 1),
            round(max(one["rss_kib_per_web_process"]) / 1024, 1), "MiB"),
        Row("RSS per viewer", scaled["kib_per_viewer"], one["kib_per_viewer"], "KiB"),
        # Is the bench's own reader a bottleneck? Busy well below 100 % and read rounds of a few ms: no.
        Row("bench client: CPU while live", scaled["client"]["busy_pct"], one["client"]["busy_pct"], "% of a core"),
        Row("bench client: read round p99", scaled["client"]["read_rounds_ms"]["p99"],
            one["client"]["read_rounds_ms"]["p99"], "ms"),
    ]


def _whole(figures: dict) -> bool:
    """Every viewer of every run got every line once, and its stream ended with `complete`."""
    complete = figures["viewers_complete"] == figures["viewers"] * figures["runs"]
    return complete and figures["lines_lost"] == 0 and figures["duplicates"] == 0
