"""Fixtures for the client and CLI tests: clients of the shared live server, the CLI, a cutting proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from boltdeck.client import Client

from ..conftest import SCENARIO_PROJECT, LiveServer

SSE_MARKER = b"text/event-stream"


@pytest.fixture
def sync_client(server):
    """The admin's sync client of the shared server, with `localhost` as default target."""
    with Client(server.url, token=server.token, targets="localhost") as found:
        yield found


@pytest.fixture
def cli_env(server) -> dict[str, str]:
    """The environment of a `boltdeck` client command talking to the shared server as admin."""
    return client_env(server)


@pytest.fixture(scope="module")
def plan_server(tmp_path_factory):
    """A live server running the Bolt double in the scenario project (tests/realbolt/project: its demo plans)."""
    live = LiveServer(
        tmp_path_factory.mktemp("plan-server"), bolt_project=SCENARIO_PROJECT, sse_heartbeat_seconds=1
    ).start()
    yield live
    live.stop()


@pytest.fixture
def plan_client(plan_server):
    with Client(plan_server.url, token=plan_server.token) as found:
        yield found


@pytest.fixture
def plan_cli_env(plan_server) -> dict[str, str]:
    return client_env(plan_server)


def client_env(server: LiveServer) -> dict[str, str]:
    """The environment of a `boltdeck` client command talking to `server` as its admin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_") and k != "NO_COLOR"}
    env.update({"BOLTDECK_URL": server.url, "BOLTDECK_TOKEN": server.token, "PYTHONUNBUFFERED": "1"})
    return env


def boltdeck(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`boltdeck ARGS` as a person would run it (the token comes from the environment, never argv)."""
    return subprocess.run(
        [sys.executable, "-m", "boltdeck", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that cuts the first SSE answer `cut_after` bytes after its Content-Type.

    It stands for a load balancer or a network that drops a long stream mid-run. It records when
    it cut and when the client came back asking with `Last-Event-ID`, so a test sees the wait.
    """

    def __init__(self, upstream_port: int, cut_after: int):
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cut_at: float | None = None
        self.resumed_at: float | None = None
        self.resume_headers: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._lock = threading.Lock()
        self._threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._sockets += [downstream, upstream]
            for target, args in ((self._requests, (downstream, upstream)), (self._answers, (upstream, downstream))):
                thread = threading.Thread(target=target, args=args, daemon=True)
                self._threads.append(thread)
                thread.start()

    def _requests(self, source: socket.socket, sink: socket.socket) -> None:
        for data in _chunks(source):
            if b"last-event-id:" in data.lower() and self.resumed_at is None:
                self.resumed_at = time.monotonic()
                self.resume_headers.append(data)
            if not _send(sink, data):
                return
        _shut(sink)

    def _answers(self, source: socket.socket, sink: socket.socket) -> None:
        transcript, forwarded, cut_point = b"", 0, None
        for data in _chunks(source):
            if cut_point is None and self.cut_at is None:
                transcript += data
                marker = transcript.find(SSE_MARKER)
                if marker >= 0:
                    cut_point = marker + len(SSE_MARKER) + self.cut_after
            if cut_point is not None and forwarded + len(data) >= cut_point:
                _send(sink, data[: cut_point - forwarded])
                self.cut_at = time.monotonic()
                _shut(sink)
                _shut(source)
                return
            if not _send(sink, data):
                return
            forwarded += len(data)
        _shut(sink)

    def close(self) -> None:
        _shut(self.listener)  # wakes the accept() (close alone would leave it listening)
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                _shut(sock)
                sock.close()
        for thread in self._threads:
            thread.join(5)


def _chunks(sock: socket.socket):
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        yield data


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


@pytest.fixture
def cutting_proxy(server):
    """Make a proxy to the shared server that cuts the first stream after N bytes; closed after the test."""
    made: list[CuttingProxy] = []

    def make(cut_after: int) -> CuttingProxy:
        made.append(CuttingProxy(int(server.url.rsplit(":", 1)[1]), cut_after))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()


def run_coroutine(coroutine):
    """`asyncio.run` in a thread of its own: the browser tests' Playwright (sync API) keeps an
    event loop running in the main thread for the whole session, where asyncio.run refuses."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

