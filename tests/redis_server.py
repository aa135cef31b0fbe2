"""A throwaway redis-server on 127.0.0.1: a free port, no persistence, its own temporary folder.

`kill()` then `start()` brings it back on the same port, empty, as a crashed and restarted
Redis would be: what the broker must survive.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

MISSING = "redis-server not found: apt-get install redis-server"
START_SECONDS = 10.0


def require_redis_server() -> str:
    """The redis-server binary's path, or skip the test with one line saying how to get it."""
    found = shutil.which("redis-server")
    if found is None:
        pytest.skip(MISSING)
    return found


class RedisServer:
    """One redis-server process; `url` stays valid across restarts."""

    def __init__(self, folder: Path, password: str | None = None):
        self.binary = require_redis_server()
        self.folder = folder
        self.password = password
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        argv = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        if self.password:
            argv += ["--requirepass", self.password]
        self.folder.mkdir(parents=True, exist_ok=True)
        self._log = open(self.folder / "redis.log", "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()
        return self

    def kill(self) -> None:
        """SIGKILL: a crash, every client's connection cut at once."""
        self._end(lambda proc: proc.kill())

    def stop(self) -> None:
        self._end(lambda proc: proc.terminate())

    def restart(self) -> None:
        self.kill()
        self.start()

    def log_text(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _end(self, signal_it) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                signal_it(self.proc)
            self.proc.wait(timeout=10)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited at start: {self.log_text()}")
            if _answers_ping(self.port):
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer within {START_SECONDS}s: {self.log_text()}")


def _answers_ping(port: int) -> bool:
    """True when the server is accepting commands (a -NOAUTH error is an answer too)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
