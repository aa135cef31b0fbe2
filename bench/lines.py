"""Timed lines: run an emitter through Boltdeck or directly, and measure (arrival - print)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass

from boltdeck.bolt.cli import bolt_environment

from .server import BenchServer, bolt_project, direct_argv, emit_command
from .sse import parse_response

STAMP = re.compile(rb"t=(\d+) i=(\d+)")
SUBSCRIBE_TIMEOUT_SECONDS = 120


@dataclass
class TimedRun:
    """Per-line latencies (ms) for each subscriber, and what was missing."""

    latencies: list[list[float]]  # one list per subscriber, in line order
    expected_lines: int
    complete: int  # subscribers whose stream reached `complete`
    wall_seconds: float
    server_cpu_live: float = 0.0  # server CPU seconds from the go signal to the last stream's end

    @property
    def all_latencies(self) -> list[float]:
        return [x for per in self.latencies for x in per]

    @property
    def everyone_got_everything(self) -> bool:
        return self.complete == len(self.latencies) and all(len(p) == self.expected_lines for p in self.latencies)


def floor_run(emit_args: list[str], expected_lines: int, timeout: float = 120) -> list[float]:
    """Spawn the emitter's shell command directly and time each line read off its pipe."""
    proc = subprocess.Popen(["sh", "-c", emit_command(*emit_args)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return _time_pipe_lines(proc, STAMP.match, expected_lines, timeout, "floor run")


def _bolt_stream_stamp(line: bytes):
    """The stamp of a `[target] out: ...` line from bolt's stdout, or None for other lines."""
    if line.startswith(b"[") and b"] out: " in line[:300]:
        return STAMP.search(line, 0, 400)
    return None


def _time_pipe_lines(proc: subprocess.Popen, stamp_of, expected_lines: int, timeout: float, what: str) -> list[float]:
    """Read proc's stdout until EOF; for each line stamp_of() matches, record (arrival - print) in ms."""
    latencies: list[float] = []
    buffer = b""
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = os.read(fd, 65536)
        now = time.time_ns()
        if not data:
            break
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            match = stamp_of(line)
            if match:
                latencies.append((now - int(match[1])) / 1e6)
    proc.stdout.close()
    proc.wait(timeout=30)
    if len(latencies) != expected_lines:
        raise RuntimeError(f"{what} read {len(latencies)} of {expected_lines} lines")
    return latencies


def boltdeck_run(server: BenchServer, emit_args: list[str], expected_lines: int, subscribers: int,
                 target: str = "localhost", timeout: float = 180) -> TimedRun:
    """Start the emitter through Boltdeck, attach `subscribers` SSE streams, release it, time lines."""
    with tempfile.TemporaryDirectory(prefix="bench-go-") as tmp:
        go = os.path.join(tmp, "go")
        started = time.perf_counter()
        answer = server.run_command(emit_command(*emit_args, "--go", go), [target])
        streams = server.stream_set()
        try:
            streams.open(f"/api/executions/{answer['executionId']}/stream", subscribers)
            _wait_subscribed(server, subscribers)
            cpu_before = server.cpu_seconds()
            open(go, "w").close()
            if not streams.run_until_closed(timeout):
                raise TimeoutError("the streams did not end in time")
            cpu_live = server.cpu_seconds() - cpu_before
        finally:
            streams.close()
        wall = time.perf_counter() - started
    latencies, complete = [], 0
    for stream in streams.streams:
        per, done = stream_latencies(stream.chunks)
        latencies.append(per)
        complete += done
    return TimedRun(latencies, expected_lines, complete, wall, cpu_live)


def stream_latencies(chunks) -> tuple[list[float], bool]:
    """(arrival - print) in ms of every timed line in one SSE response; and whether it completed."""
    _, _, frames = parse_response(chunks)
    per: list[float] = []
    complete = False
    for frame in frames:
        if frame.event == "stdout":
            text = frame.json["data"]["text"].encode()
            per += [(frame.arrived_ns - int(m[1])) / 1e6 for m in STAMP.finditer(text)]
        elif frame.event == "complete":
            complete = True
    return per, complete


def _wait_subscribed(server: BenchServer, count: int) -> None:
    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
    while server.subscribers() < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {server.subscribers()} of {count} subscribers registered")
        time.sleep(0.02)


def bolt_direct_run(emit_args: list[str], expected_lines: int, target: str = "localhost",
                    timeout: float = 120) -> list[float]:
    """Spawn the bolt invocation Boltdeck would run, and time each stream line off bolt's stdout."""
    argv = direct_argv(emit_command(*emit_args), [target])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=bolt_environment(), cwd=bolt_project())
    return _time_pipe_lines(proc, _bolt_stream_stamp, expected_lines, timeout, "bolt direct run")
