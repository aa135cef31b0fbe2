"""Run one bolt process: own process group, stdin closed, both pipes read concurrently and in bounded lines."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
from typing import Callable, Mapping, Sequence

import gevent
from gevent import subprocess

from .lines import LineHandler, LineSplitter, LinesHandler
from .reaper import GroupReaper

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
READ_BYTES = 64 * 1024  # a pipe's whole capacity on Linux
DEFAULT_LINE_LIMIT = 10 * 1024 * 1024
_KILL_ROUNDS = 3  # a process may fork while its group is being killed: look again

# Told which pipe ("stdout" or "stderr") failed to be read or handled, and how.
ErrorCallback = Callable[[str, Exception], None]


def _child_setup(parent_pid: int) -> Callable[[], None]:
    """Runs in the child between fork and exec: new process group, die with the server."""

    def setup() -> None:
        os.setpgid(0, 0)
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the server died before prctl took effect
            os._exit(1)

    return setup


class BoltProcess:
    """A running bolt invocation whose stdout and stderr lines go to callbacks.

    Lines are at most about `line_limit` bytes (see `LineSplitter`). A callback that raises
    does not stop the reading: the pipe is drained to its end so that bolt never writes into
    a closed pipe, and the first failure of each pipe goes to `on_error`. When `marker`
    (`NAME=value`, also put in `env`) is given, every process still carrying it after bolt
    exits is killed, also those a command detached from bolt's process group. With
    `on_stdout_lines`, stdout's whole short plain lines come to it in runs, one call per run
    of a pipe read (see `LineSplitter`); a run whose handler raises is reported like a line.
    """

    def __init__(
        self,
        argv: Sequence[str],
        on_stdout: LineHandler,
        on_stderr: LineHandler,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        reaper: "GroupReaper | None" = None,
        *,
        on_error: ErrorCallback | None = None,
        line_limit: int = DEFAULT_LINE_LIMIT,
        marker: str | None = None,
        on_stdout_lines: LinesHandler | None = None,
    ):
        self.argv = list(argv)
        self._handlers = {"stdout": on_stdout, "stderr": on_stderr}
        self._run_handlers = {"stdout": on_stdout_lines, "stderr": None}
        self._on_error = on_error
        self._line_limit = line_limit
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._reaper = reaper
        self._marker = marker
        self.proc: subprocess.Popen | None = None
        self._readers: list[gevent.Greenlet] = []
        self._failures = {"stdout": 0, "stderr": 0}
        self._swept = False
        self.leftovers_killed = 0  # processes with the marker that outlived bolt

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        """Spawn bolt; raises OSError when the executable cannot be started."""
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env,
            cwd=self._cwd,
            preexec_fn=_child_setup(os.getpid()),
            close_fds=True,
        )
        if self._reaper is not None:
            self._reaper.track(self.proc.pid)
        self._readers = [
            gevent.spawn(self._pump, "stdout", self.proc.stdout),
            gevent.spawn(self._pump, "stderr", self.proc.stderr),
        ]

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the process to exit and both pipes to drain; None on timeout.

        A bolt killed by a signal (Ruby dies of SIGTERM) reports 128 + its number, as a shell does.
        """
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._kill_group(signal.SIGKILL)  # nothing of the group may outlive the run
        if self._marker is not None and not self._swept:  # nor what left the group (setsid)
            self._swept = True  # a cancel's terminate() may be waiting too: count them once
            self.leftovers_killed = kill_marked({self._marker.encode()})
        gevent.joinall(self._readers)
        if self._reaper is not None:
            self._reaper.untrack(self.proc.pid)
        return 128 - code if code < 0 else code

    def terminate(self, grace: float) -> int:
        """SIGTERM the whole group, SIGKILL it after `grace` seconds; return the exit code."""
        assert self.proc is not None
        self._kill_group(signal.SIGTERM)
        code = self.wait(timeout=grace)
        if code is None:
            log.warning("bolt pid %s ignored SIGTERM for %.1fs; sending SIGKILL", self.pid, grace)
            self._kill_group(signal.SIGKILL)
            code = self.wait()
        return code

    def _kill_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _pump(self, stream: str, pipe) -> None:
        """Read one pipe to EOF in chunks; whatever fails, go on draining it."""
        on_lines = (lambda lines: self._deliver_run(stream, lines)) if self._run_handlers[stream] else None
        splitter = LineSplitter(self._line_limit, lambda line, cut: self._deliver(stream, line, cut), on_lines)
        chunks = iter(lambda: pipe.read1(READ_BYTES), b"")
        try:
            for chunk in chunks:
                splitter.feed(chunk)
            splitter.close()
        except Exception as exc:  # the splitting itself failed: report it, then drain unread
            self._report(stream, exc)
            for _ in chunks:
                pass
        finally:
            pipe.close()
            if self._failures[stream] > 1:
                log.warning("handling bolt's %s failed %d times in all", stream, self._failures[stream])

    def _deliver(self, stream: str, line: bytes | bytearray, cut: bool) -> None:
        try:
            self._handlers[stream](line, cut)
        except Exception as exc:  # the next lines may still be fine, and bolt must not block
            self._report(stream, exc)

    def _deliver_run(self, stream: str, lines: list[bytes]) -> None:
        try:
            self._run_handlers[stream](lines)
        except Exception as exc:
            self._report(stream, exc)

    def _report(self, stream: str, exc: Exception) -> None:
        """Log the first failure of a pipe and hand it to `on_error`; later ones tend to repeat it."""
        self._failures[stream] += 1
        if self._failures[stream] > 1:
            return
        log.error("handling bolt's %s (pid %s) failed", stream, self.pid, exc_info=exc)
        if self._on_error is not None:
            try:
                self._on_error(stream, exc)
            except Exception:
                log.exception("recording a failure of bolt's %s failed too", stream)


def kill_marked(needles: set[bytes]) -> int:
    """SIGKILL the process group of every process whose environment holds one of `needles`.

    Returns how many processes carried a needle. Never touches the server's own group.
    """
    seen: set[int] = set()
    for _ in range(_KILL_ROUNDS):
        found = [pid for pid in _processes_with(needles) if pid not in seen]
        if not found:
            break
        for pid in found:
            _kill_process_group(pid)
        seen.update(found)
    return len(seen)


def _processes_with(needles: set[bytes]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                env = set(handle.read().split(b"\0"))  # a zombie's reads empty: it is already dead
        except OSError:
            continue
        if env & needles:
            found.append(int(entry))
    return found


def _kill_process_group(pid: int) -> None:
    try:
        pgid = os.getpgid(pid)
        if pgid == os.getpgrp():  # cannot happen unless a process joined our group: spare the server
            os.kill(pid, signal.SIGKILL)
        else:
            os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_orphans(marker: str, values: set[str]) -> int:
    """SIGKILL process groups whose environment holds `marker=<one of values>` (after a crash)."""
    return kill_marked({f"{marker}={v}".encode() for v in values})
