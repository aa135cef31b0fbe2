"""The scale-out layout for the bench: PostgreSQL, Redis, gunicorn web workers and a `boltdeck runner`.

PostgreSQL and Redis are the throwaway servers the test suite starts (tests/pg.py,
tests/redis_server.py), imported rather than copied: `python -m bench` runs from the
repository root, where `tests` is importable, and the bench checks for their binaries first
(`missing()`), so their pytest skips are never reached from here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .server import ROOT, START_TIMEOUT_SECONDS, BenchServer, cpu_seconds, rss_kib

GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
DATABASE = "boltdeck_bench"


def missing() -> str | None:
    """One line naming what the scale-out layout lacks on this machine and how to get it; None if nothing."""
    from tests.pg import MISSING as POSTGRES_MISSING, pg_bin_dir
    from tests.redis_server import MISSING as REDIS_MISSING

    if pg_bin_dir() is None:
        return POSTGRES_MISSING
    if shutil.which("redis-server") is None:
        return REDIS_MISSING
    for module, extra in (("psycopg", "postgres"), ("redis", "redis"), ("gunicorn", "deploy")):
        if importlib.util.find_spec(module) is None:
            return f"{module} not installed: pip install -e '.[{extra}]'"
    return None


@dataclass
class Service:
    """A running shared service: its URL, and the process ids whose CPU it costs."""

    url: str
    root_pid: int

    def pids(self) -> list[int]:
        return [self.root_pid, *descendants(self.root_pid)]  # PostgreSQL forks a backend per connection


@contextlib.contextmanager
def postgres() -> Iterator[Service]:
    """A throwaway PostgreSQL cluster (fsync off) with one empty database."""
    from tests.pg import Cluster, admin_sql, with_database

    cluster = Cluster()
    try:
        cluster.start()
        admin_sql(cluster.admin_url, f'CREATE DATABASE "{DATABASE}"')
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield Service(with_database(cluster.admin_url, DATABASE), postmaster)
    finally:
        cluster.destroy()


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[Service]:
    """A throwaway redis-server (no persistence)."""
    from tests.redis_server import RedisServer

    server = RedisServer(folder).start()
    try:
        yield Service(server.url, server.proc.pid)
    finally:
        server.stop()


class GunicornBench(BenchServer):
    """gunicorn with the shipped deploy/gunicorn.conf.py and N gevent workers, set up as docs/deployment.md says.

    The schema is migrated by `boltdeck db upgrade` before any worker starts; the admin and its
    token are made with the CLI as for `boltdeck serve`. Started means every worker has joined
    the cluster, so that the kernel spreads the bench's connections over all of them.
    """

    def __init__(self, workers: int, **settings):
        super().__init__(**settings)
        self.workers = workers

    def start(self) -> "GunicornBench":
        from tests.pg import free_port

        self._manage(["db", "upgrade"])
        self.provision()
        self.port = free_port()
        self.env.update(BOLTDECK_HOST="127.0.0.1", BOLTDECK_PORT=str(self.port), WEB_CONCURRENCY=str(self.workers))
        with open(self.workdir / "server.log", "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.workdir,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.proc.poll() is None:
            if len(self.worker_pids()) == self.workers and self._joined() >= self.workers:
                return self
            time.sleep(0.2)
        self.stop()
        log_text = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"gunicorn did not start {self.workers} workers; its log ends with:\n{log_text}")

    def _joined(self) -> int:
        try:
            _, body = self.request("GET", "/api/streaming/stats?scope=cluster", timeout=5)
        except OSError:  # not listening yet
            return 0
        return sum(1 for w in body.get("workers", ()) if w["worker"]["role"] == "web") if isinstance(body, dict) else 0

    def worker_pids(self) -> list[int]:
        return children(self.pid)

    def pids(self) -> list[int]:
        """The master and its workers: the processes whose CPU the web tier costs."""
        return [self.pid, *self.worker_pids()]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids())


class Runner:
    """`boltdeck runner` on a web server's database and broker: claims executions and runs Bolt, no HTTP."""

    def __init__(self, web: BenchServer):
        self.env, self.workdir = dict(web.env), web.workdir
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> "Runner":
        with open(self.workdir / "runner.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "boltdeck", "runner"], env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=log, cwd=self.workdir,
            )
        line = self.proc.stdout.readline()  # "Boltdeck runner <id> (pid N) ready"
        if b"ready" not in line:
            self.__exit__()
            raise RuntimeError(f"boltdeck runner did not start: {line!r}; see {self.workdir / 'runner.log'}")
        return self

    def __exit__(self, *exc_info) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    found = children(pid)
    return found + [d for child in found for d in descendants(child)]
