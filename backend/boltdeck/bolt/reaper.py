"""A watchdog process that kills Bolt's process groups if the server dies without stopping them.

The server cannot clean up after a SIGKILL, and a parent-death signal reaches only bolt
itself, not the commands bolt started in its group. So one small process per server is
told (on a pipe) which groups are live; when the pipe closes without a goodbye, the server
is gone and the watchdog terminates every group still listed.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time

log = logging.getLogger(__name__)
GRACE_SECONDS = 2.0


class GroupReaper:
    """Server side: start the watchdog lazily and tell it which process groups are live."""

    def __init__(self) -> None:
        self._proc = None

    def track(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def untrack(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")

    def close(self) -> None:
        """Orderly shutdown: the server stopped its groups itself, the watchdog may go."""
        if self._proc is not None and self._proc.poll() is None:
            self._send("bye\n")
            self._proc.stdin.close()

    def _send(self, line: str) -> None:
        from gevent import subprocess

        for _ in range(2):
            if self._proc is None or self._proc.poll() is not None:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "boltdeck.bolt.reaper"],
                    stdin=subprocess.PIPE,
                    start_new_session=True,
                    close_fds=True,
                )
            try:
                self._proc.stdin.write(line.encode())
                self._proc.stdin.flush()
                return
            except (BrokenPipeError, OSError):
                log.warning("process-group watchdog died; starting a new one")
                self._proc = None


def main() -> int:
    """Watchdog side: read +pgid/-pgid lines; on EOF without `bye`, kill what is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C for the server is not for us
    live: set[int] = set()
    for line in sys.stdin:
        line = line.strip()
        if line == "bye":
            return 0
        if line[:1] in "+-" and line[1:].isdigit():
            (live.add if line[0] == "+" else live.discard)(int(line[1:]))
    _kill_groups(live)
    return 0


def _kill_groups(pgids: set[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pgid in pgids:
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if sig == signal.SIGTERM and pgids:
            time.sleep(GRACE_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
