"""Timed lines: run an emitter through Boltdeck or directly, and measure (arrival - print)."""

from __future__ import annotations

import bisect
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
    stdout_events: int = 0  # how many stdout events carried the lines (to the first subscriber)

    @property
    def all_latencies(self) -> list[float]:
        return [x for per in self.latencies for x in per]

    @property
    def everyone_got_everything(self) -> bool:
        return self.complete == len(self.latencies) and all(len(p) == self.expected_lines for p in self.latencies)


def floor_run(emit_args: list[str], expected_lines: int, timeout: float = 120) -> list[float]:
    """Spawn the emitter's shell command directly and time each line read off its pipe."""
    proc = subprocess.Popen(["sh", "-c", emit_command(*emit_args)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return _time_pipe_lines(proc, lambda line: line, expected_lines, timeout, "floor run")


def _bolt_stream_text(line: bytes) -> bytes | None:
    """The text of a `[target] out: ...` line from bolt's stdout, or None for other lines."""
    if line.startswith(b"["):
        mark = line.find(b"] out: ", 0, 300)
        if mark > 0:
            return line[mark + 7 :]
    return None


def _time_pipe_lines(proc: subprocess.Popen, text_of, expected_lines: int, timeout: float, what: str) -> list[float]:
    """Read proc's stdout until EOF; (arrival - print) in ms of each emitted line in the texts text_of() gives."""
    pieces: list[tuple[int, bytes]] = []
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
        pieces += [(now, text) for text in map(text_of, lines) if text is not None]
    proc.stdout.close()
    proc.wait(timeout=30)
    latencies = [(arrived - printed) / 1e6 for _, printed, arrived in stamped_lines(pieces)]
    if len(latencies) != expected_lines:
        raise RuntimeError(f"{what} read {len(latencies)} of {expected_lines} lines")
    return latencies


def stamped_lines(pieces: list[tuple[int, bytes]]) -> list[tuple[int, int, int]]:
    """(index, printed ns, arrived ns) of every emitted line in pieces of output, in order.

    `pieces` are (arrival ns, text) as they came. The real Bolt reads a command's output 4,096
    bytes at a time and prints each read as a stream line of its own, so an emitted line may
    come in two pieces, each with a newline Bolt added. The pieces are joined without any
    newline (every emitted line starts with `t=`, so the lines stay apart), and a line counts
    as arrived with the piece that holds its last byte.
    """
    joined = bytearray()
    ends: list[int] = []  # offset in `joined` just past each piece
    for _, text in pieces:
        joined += text.replace(b"\n", b"")
        ends.append(len(joined))
    matches = list(STAMP.finditer(joined))
    found = []
    for k, match in enumerate(matches):
        last_byte = (matches[k + 1].start() if k + 1 < len(matches) else len(joined)) - 1
        arrived = pieces[bisect.bisect_right(ends, last_byte)][0]
        found.append((int(match[2]), int(match[1]), arrived))
    return found


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
    latencies, complete, events = [], 0, []
    for stream in streams.streams:
        _, _, frames = parse_response(stream.chunks)
        pieces, done = stdout_pieces(frames)
        latencies.append([(arrived - printed) / 1e6 for _, printed, arrived in stamped_lines(pieces)])
        complete += done
        events.append(len(pieces))
    return TimedRun(latencies, expected_lines, complete, wall, cpu_live, events[0] if events else 0)


def stdout_pieces(frames) -> tuple[list[tuple[int, bytes]], bool]:
    """(arrival ns, text) of each stdout event of one SSE response's frames; and whether it reached `complete`."""
    pieces = [(f.arrived_ns, f.json["data"]["text"].encode()) for f in frames if f.event == "stdout"]
    return pieces, any(f.event == "complete" for f in frames)


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
    return _time_pipe_lines(proc, _bolt_stream_text, expected_lines, timeout, "bolt direct run")
