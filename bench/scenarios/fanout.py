"""3. Fan-out: N concurrent SSE subscribers on one execution; all get every event; latency and RSS."""

from __future__ import annotations

import threading

from ..lines import boltdeck_run, floor_run
from ..result import Row, ScenarioResult
from ..server import BenchServer
from ..stats import summary

TITLE = "Fan-out (N subscribers, one execution)"
P99_LIMIT_MS = 50.0


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["fanout"]
    n, lines = p["subscribers"], p["lines"]
    args = ["sparse", "--count", str(lines), "--interval-ms", str(p["interval_ms"])]
    result = ScenarioResult("fanout", TITLE)
    floor = summary(floor_run(args, lines))
    with ctx.server(BenchServer()) as server:
        server.run_command("true", ["localhost"], wait=True)
        rss_before = server.rss_kib()
        peak = _PeakRss(server.pid)
        with peak:
            timed = boltdeck_run(server, args, lines, n)
        cpu = timed.server_cpu_live
        rss_after = server.rss_kib()
        # The same fan-out at a quarter of the rate: how long one event takes to reach everyone
        # when the server is not also still busy with the previous one.
        slow_args = ["sparse", "--count", str(p["slow_lines"]), "--interval-ms", str(p["slow_interval_ms"])]
        slow = summary(boltdeck_run(server, slow_args, p["slow_lines"], n).all_latencies)
    figures = summary(timed.all_latencies)
    figures.update({
        "subscribers": n, "lines": lines, "all_received": timed.everyone_got_everything,
        "subscribers_complete": timed.complete, "rss_kib_peak": peak.peak, "rss_kib_after": rss_after,
        "server_cpu_s_live": round(cpu, 3), "server_cpu_us_per_delivery": round(cpu / max(1, n * lines) * 1e6, 1),
    })
    result.figures.update(figures)
    result.figures["slow_rate"] = {**slow, "interval_ms": p["slow_interval_ms"]}
    result.baseline.update({"what": "floor latency (emitter's pipe read directly); server RSS before subscribing",
                            "floor": floor, "rss_kib": rss_before})
    result.rows += [
        Row(f"{n} subs: every line to everyone", int(timed.everyone_got_everything), 1, "bool", "all",
            timed.everyone_got_everything),
        Row(f"{n} subs: p50", figures["p50"], floor["p50"], "ms"),
        Row(f"{n} subs: p99", figures["p99"], floor["p99"], "ms", f"< {P99_LIMIT_MS:g}",
            figures["p99"] < P99_LIMIT_MS),
        Row(f"{n} subs: server RSS (peak)", round(peak.peak / 1024, 1), round(rss_before / 1024, 1), "MiB"),
        Row("server CPU per line delivered to one subscriber", figures["server_cpu_us_per_delivery"], None, "µs"),
        Row(f"{n} subs, one line per {p['slow_interval_ms']} ms (info): p50", slow["p50"], floor["p50"], "ms"),
        Row(f"{n} subs, one line per {p['slow_interval_ms']} ms (info): p99", slow["p99"], floor["p99"], "ms"),
    ]
    return result


class _PeakRss:
    """Sample a process's RSS every 50 ms in a thread while the block runs."""

    def __init__(self, pid: int, interval: float = 0.05):
        from ..server import rss_kib

        self._read = lambda: rss_kib(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._read())
            except OSError:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, self._read())
