"""Who this process is, among the processes sharing a store, and whether another one is provably gone."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

ROLES = ("all", "web", "runner")  # all: HTTP and runs (`boltdeck serve`); web: HTTP only; runner: runs only
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class Worker:
    id: str
    host: str
    pid: int
    boot_id: str
    role: str

    @property
    def runs_executions(self) -> bool:
        return self.role in ("all", "runner")

    def describe(self) -> dict:
        return {"id": self.id, "host": self.host, "pid": self.pid, "role": self.role}

    def outlived(self, host: str | None, boot_id: str | None, pid: int | None) -> bool:
        """True when a worker recorded with these facts is certainly dead: same machine, and its
        boot is over or its pid is gone. On another machine only its lease can tell."""
        if host != self.host or boot_id is None:
            return False
        if boot_id != self.boot_id:
            return True
        return pid is not None and pid != self.pid and not _pid_alive(pid)


def this_worker(role: str) -> Worker:
    return Worker(uuid.uuid4().hex, socket.gethostname(), os.getpid(), _boot_id(), role)


def _boot_id() -> str:
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:  # not Linux: a pid is then trusted only while the lease lasts
        return "unknown"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True
