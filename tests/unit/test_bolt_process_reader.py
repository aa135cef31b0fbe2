"""BoltProcess with real child processes: failing line handlers and detached leftovers (issue 10).

Bugs: an exception in a pipe-reader greenlet closed the pipe, so the child died of SIGPIPE
and the failure went unrecorded; and a process a command detached with `setsid` left bolt's
process group and outlived the execution.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

from boltdeck.bolt.runner import BoltProcess


# Start `sleep 300` in a session of its own and return only once it is there (sid == pid).
DETACH = (
    "setsid sleep 300 </dev/null >/dev/null 2>&1 & "
    'until [ "$(cut -d" " -f6 /proc/$!/stat)" = "$!" ]; do sleep 0.01; done;'
)


class Boom(Exception):
    pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().split(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return False


def _dies_soon(pid: int, timeout: float = 3.0) -> bool:
    """SIGKILL takes effect when the process next runs: allow it a moment."""
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _alive(pid)


def test_bolt_process_a_failing_handler_keeps_the_pipe_drained_and_is_reported():
    """The handler fails on the first line: the child must not die of SIGPIPE, later lines still arrive."""
    delivered: list[bytes] = []
    failures: list[tuple[str, Exception]] = []

    def on_stdout(line, cut):
        if line == b"1":
            raise Boom("cannot handle line 1")
        delivered.append(bytes(line))

    process = BoltProcess(
        ["seq", "1", "300000"],  # 2 MB: far more than a pipe holds, so a closed pipe would kill seq
        on_stdout=on_stdout,
        on_stderr=lambda line, cut: None,
        on_error=lambda stream, exc: failures.append((stream, exc)),
    )
    process.start()
    code = process.wait(timeout=60)
    assert code == 0, f"seq ended with {code} (-{signal.SIGPIPE} is SIGPIPE)"
    assert len(delivered) == 299999 and delivered[-1] == b"300000"
    assert [(stream, type(exc)) for stream, exc in failures] == [("stdout", Boom)]


def test_bolt_process_reports_only_the_first_failure_of_a_pipe():
    failures: list[tuple[str, Exception]] = []

    def always_fails(line, cut):
        raise Boom(line)

    process = BoltProcess(
        ["sh", "-c", "seq 1 1000; seq 1 1000 >&2"],
        on_stdout=always_fails,
        on_stderr=always_fails,
        on_error=lambda stream, exc: failures.append((stream, exc)),
    )
    process.start()
    assert process.wait(timeout=30) == 0
    assert sorted(stream for stream, _ in failures) == ["stderr", "stdout"]


def test_bolt_process_kills_what_a_command_detached_with_setsid():
    """A `setsid` child leaves bolt's process group; it still carries the marker and is killed."""
    marker = f"BOLTDECK_EXECUTION_ID={uuid.uuid4().hex}"
    name, _, value = marker.partition("=")
    pids: list[int] = []
    process = BoltProcess(
        ["sh", "-c", DETACH + " echo $!"],
        on_stdout=lambda line, cut: pids.append(int(line)),
        on_stderr=lambda line, cut: None,
        env={**os.environ, name: value},
        marker=marker,
    )
    process.start()
    try:
        assert process.wait(timeout=30) == 0
        (pid,) = pids
        assert _dies_soon(pid), "the detached sleep outlived its run"
        assert process.leftovers_killed == 1
    finally:
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_bolt_process_killed_by_a_signal_reports_the_shells_exit_code():
    """Real Bolt (Ruby) dies of SIGTERM: Popen says -15; Boltdeck shows 143, as a shell would."""
    process = BoltProcess(["sh", "-c", "kill -TERM $$"], on_stdout=lambda *_: None, on_stderr=lambda *_: None)
    process.start()
    assert process.wait(timeout=10) == 128 + signal.SIGTERM


def test_bolt_process_hands_stdout_on_in_runs_in_order_and_stderr_line_by_line():
    stdout: list[bytes] = []  # both handlers' lines, in the order they came
    runs: list[list[bytes]] = []
    single: list[bytes] = []
    errs: list[bytes] = []

    def on_run(run):
        runs.append(list(run))
        stdout.extend(run)

    def on_line(line, cut):
        single.append(bytes(line))  # a result line, or a line a pipe read ended in the middle of
        stdout.append(bytes(line))

    process = BoltProcess(
        ["sh", "-c", 'seq 1 100000; echo \'{"target":"t","status":"success"}\'; seq 100001 100010; seq 1 5 >&2'],
        on_stdout=on_line,
        on_stderr=lambda line, cut: errs.append(bytes(line)),
        on_stdout_lines=on_run,
    )
    process.start()
    assert process.wait(timeout=60) == 0
    numbers = [str(i).encode() for i in range(1, 100011)]
    assert stdout == [*numbers[:100000], b'{"target":"t","status":"success"}', *numbers[100000:]]
    assert sum(map(len, runs)) > 99000 and len(runs) < 1000  # a run per pipe read (64 KiB), not per line
    assert b'{"target":"t","status":"success"}' in single and len(single) < 1000
    assert errs == [b"1", b"2", b"3", b"4", b"5"]


def test_bolt_process_a_failing_runs_handler_keeps_the_pipe_drained_and_is_reported_once():
    delivered: list[bytes] = []
    failures: list[tuple[str, Exception]] = []

    def on_run(run):
        if run[0] == b"1":
            raise Boom("cannot handle the first run")
        delivered.extend(run)

    process = BoltProcess(
        ["seq", "1", "300000"],
        on_stdout=lambda line, cut: delivered.append(bytes(line)),
        on_stderr=lambda line, cut: None,
        on_error=lambda stream, exc: failures.append((stream, exc)),
        on_stdout_lines=on_run,
    )
    process.start()
    assert process.wait(timeout=60) == 0, "seq must not die of SIGPIPE"
    assert delivered[-1] == b"300000" and len(delivered) > 250000
    assert [(stream, type(exc)) for stream, exc in failures] == [("stdout", Boom)]
