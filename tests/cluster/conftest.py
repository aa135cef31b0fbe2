"""Several Boltdeck processes sharing one PostgreSQL database and one Redis, all on 127.0.0.1."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import LiveServer, stop_process
from ..pg import fresh_database_url
from ..redis_server import RedisServer

LEASE_SECONDS = 3  # short, so that a dead worker's executions are recovered within a test


class RunnerProcess:
    """A `boltdeck runner` process (runs executions, serves no HTTP)."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.folder = env, folder
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RunnerProcess":
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "runner.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "boltdeck", "runner"], env=self.env, stdout=subprocess.PIPE, stderr=log,
                cwd=self.folder,
            )
        line = self.proc.stdout.readline()
        if not re.search(rb"runner \w+ \(pid \d+\) ready", line):
            self.stop(signal.SIGKILL)
            raise RuntimeError(f"runner did not start: {line!r}; log: {(self.folder / 'runner.log').read_text()}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        return stop_process(self.proc, sig, timeout)


class Cluster:
    """Start servers and runners on one database and one broker; the first server creates the admin."""

    def __init__(self, folder: Path, database_url: str, redis: RedisServer):
        self.folder = folder
        self.shared = {
            "BOLTDECK_DATABASE_URL": database_url,
            "BOLTDECK_BROKER_URL": redis.url,
            "BOLTDECK_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        self.redis = redis
        self.processes: list[LiveServer | RunnerProcess] = []
        self.token = ""

    def server(self, **settings) -> LiveServer:
        live = LiveServer(self.folder / f"process{len(self.processes)}", dict(self.shared), **settings)
        live.tmp_path.mkdir(parents=True, exist_ok=True)
        live.token = self.token  # the admin and its token exist from the first server on
        live.start()
        self.token = live.token
        self.processes.append(live)
        return live

    def runner(self, **settings) -> RunnerProcess:
        env = LiveServer(self.folder / "runner-env", dict(self.shared), **settings).env
        runner = RunnerProcess(env, self.folder / f"process{len(self.processes)}").start()
        self.processes.append(runner)
        return runner

    def close(self) -> None:
        for process in self.processes:
            process.stop(signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path):
    database_url = fresh_database_url()
    redis = RedisServer(tmp_path / "redis").start()
    found = Cluster(tmp_path, database_url, redis)
    yield found
    found.close()
    redis.stop()
