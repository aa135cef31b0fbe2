"""Fixtures for the Redis broker: a real redis-server and peer processes sharing one SQLite store."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ..conftest import ROOT
from ..redis_server import RedisServer


class PeerProcess:
    """A tests/redis/peer.py process: send() a command, expect() a reply carrying a key."""

    def __init__(self, name: str, redis_url: str, db_path: Path, folder: Path, heartbeat: float):
        self.name = name
        self.log_path = folder / f"{name}.log"
        self._stderr = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.redis.peer", redis_url, str(db_path), name, str(heartbeat)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._lines: queue.Queue = queue.Queue()
        self._backlog: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.expect("ready")

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(json.loads(line))
        self._lines.put(None)

    def send(self, do: str, **arguments) -> None:
        self.proc.stdin.write(json.dumps({"do": do, **arguments}) + "\n")
        self.proc.stdin.flush()

    def expect(self, key: str, value=None, timeout: float = 10.0, **values) -> dict:
        """The next reply with `key` (equal to `value` if given) and these values; others stay for later."""
        if value is not None:
            values[key] = value
        for i, reply in enumerate(self._backlog):
            if _matches(reply, key, values):
                return self._backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.name}: no {key} {values} within {timeout}s; its log:\n{self.log()}")
            if reply is None:
                self._lines.put(None)
                raise AssertionError(f"{self.name} exited before {key} {values}; its log:\n{self.log()}")
            if _matches(reply, key, values):
                return reply
            self._backlog.append(reply)

    def replies(self, key: str) -> list[dict]:
        """Replies with `key` received so far and not yet expected."""
        while not self._lines.empty():
            reply = self._lines.get_nowait()
            if reply is None:
                self._lines.put(None)
                break
            self._backlog.append(reply)
        return [reply for reply in self._backlog if key in reply]

    def log(self) -> str:
        self._stderr.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self._stderr.close()


def _matches(reply: dict, key: str, values: dict) -> bool:
    return key in reply and all(reply.get(k) == v for k, v in values.items())


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def peers(tmp_path, redis_server):
    """peers(name, heartbeat=60): start a process on the shared store; every one is closed after."""
    started: list[PeerProcess] = []
    db_path = tmp_path / "shared.sqlite3"

    def start(name: str, heartbeat: float = 60.0) -> PeerProcess:
        peer = PeerProcess(name, redis_server.url, db_path, tmp_path, heartbeat)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.close()


def wait_listening(redis_server: RedisServer, count: int, timeout: float = 10.0) -> None:
    """Wait until `count` processes' listeners are subscribed (Redis's own count of them)."""
    import redis

    deadline = time.monotonic() + timeout
    with redis.Redis.from_url(redis_server.url) as client:
        while time.monotonic() < deadline:
            if dict(client.pubsub_numsub("boltdeck:0:events", "boltdeck:0:notices")) == {
                b"boltdeck:0:events": count,
                b"boltdeck:0:notices": count,
            }:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} listeners did not subscribe within {timeout}s")
