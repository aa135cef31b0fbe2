"""Run one bolt process: own process group, stdin closed, both pipes read concurrently."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
from typing import Callable, Mapping, Sequence

import gevent
from gevent import subprocess

from .reaper import GroupReaper

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

LineCallback = Callable[[bytes], None]


def _child_setup(parent_pid: int) -> Callable[[], None]:
    """Runs in the child between fork and exec: new process group, die with the server."""

    def setup() -> None:
        os.setpgid(0, 0)
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the server died before prctl took effect
            os._exit(1)

    return setup


class BoltProcess:
    """A running bolt invocation whose stdout and stderr lines go to callbacks."""

    def __init__(
        self,
        argv: Sequence[str],
        on_stdout: LineCallback,
        on_stderr: LineCallback,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        reaper: "GroupReaper | None" = None,
    ):
        self.argv = list(argv)
        self._on_stdout = on_stdout
        self._on_stderr = on_stderr
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._reaper = reaper
        self.proc: subprocess.Popen | None = None
        self._readers: list[gevent.Greenlet] = []

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
            gevent.spawn(_pump, self.proc.stdout, self._on_stdout),
            gevent.spawn(_pump, self.proc.stderr, self._on_stderr),
        ]

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the process to exit and both pipes to drain; None on timeout."""
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._kill_group(signal.SIGKILL)  # nothing of the group may outlive the run
        gevent.joinall(self._readers)
        if self._reaper is not None:
            self._reaper.untrack(self.proc.pid)
        return code

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


def _pump(pipe, callback: LineCallback) -> None:
    """Read lines until EOF; a last line without newline is delivered too."""
    try:
        for line in iter(pipe.readline, b""):
            callback(line)
    finally:
        pipe.close()


def kill_orphans(marker: str, values: set[str]) -> int:
    """SIGKILL process groups whose environment holds `marker=<one of values>` (after a crash)."""
    killed = 0
    needles = {f"{marker}={v}".encode() for v in values}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                env = set(handle.read().split(b"\0"))
        except OSError:
            continue
        if env & needles:
            try:
                os.killpg(os.getpgid(int(entry)), signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
    return killed
