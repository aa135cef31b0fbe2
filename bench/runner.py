"""Run scenarios one after the other, each against its own fresh server; collect their results."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .profiles import PROFILES
from .report import table, write_json
from .result import ScenarioResult
from .scenarios import SCENARIOS
from .server import ROOT, BenchServer, bolt_bin, raise_open_file_limit

RESULTS = Path(__file__).resolve().parent / "results"


class Context:
    """What scenarios share: how a server is started (and profiled with py-spy when asked)."""

    def __init__(self, profile_dir: Path | None = None):
        self.profile_dir = profile_dir
        self.scenario = ""
        self._profiled = 0  # a scenario may start several servers: one file each
        self.py_spy = Path(sys.executable).with_name("py-spy")
        if profile_dir is not None and not self.py_spy.exists():
            raise SystemExit(f"--profile-dir needs py-spy: {Path(sys.executable).with_name('pip')} install py-spy")

    @contextlib.contextmanager
    def server(self, server: BenchServer) -> Iterator[BenchServer]:
        try:
            server.start()
            spy = self._profile(server.pid)
            try:
                yield server
            finally:
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    try:
                        spy.wait(30)
                    except subprocess.TimeoutExpired:
                        spy.kill()
                server.stop()
        finally:
            server.remove_workdir()

    def _profile(self, pid: int) -> subprocess.Popen | None:
        if self.profile_dir is None:
            return None
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self._profiled += 1
        out = self.profile_dir / f"{self.scenario}-{self._profiled}.txt"
        return subprocess.Popen(
            [str(self.py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--nonblocking",
             "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )


def run(profile: str = "full", only: list[str] | None = None, out: Path | None = None,
        profile_dir: Path | None = None, echo=None) -> dict:
    """Run the scenarios of a size profile; print a table; write JSON; return what was written."""
    echo = echo or (lambda text: print(text, flush=True))
    sizes = PROFILES[profile]
    names = only or list(SCENARIOS)
    fd_limit = raise_open_file_limit()
    load_before = [round(x, 2) for x in os.getloadavg()]
    ctx = Context(profile_dir)
    results: list[ScenarioResult] = []
    started = time.perf_counter()
    for name in names:
        ctx.scenario = name
        echo(f"[bench] {name} ...")
        t0 = time.perf_counter()
        try:
            result = SCENARIOS[name].run(sizes, ctx)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            result = ScenarioResult(name, getattr(SCENARIOS[name], "TITLE", name), error=f"{type(exc).__name__}: {exc}")
            result.notes.append(traceback.format_exc())
        result.seconds = round(time.perf_counter() - t0, 1)
        results.append(result)
    meta = {
        "profile": profile,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "bolt": bolt_bin(),
        "python": sys.version.split()[0],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": _cpu_model()},
        "open_file_limit": fd_limit,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "commit": _git_commit(),
    }
    out = out or RESULTS / "latest.json"
    write_json(out, meta, results)
    echo(table(results))
    echo(f"[bench] {profile} run took {meta['seconds']} s; load average before {load_before}, after "
         f"{meta['load_average_after']} (other work on the machine shows up as latency); results in {out}")
    return {"meta": meta, "results": results, "path": out}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "backend"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10)
        return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
