"""Small helpers for API tests against live servers."""

from __future__ import annotations

import os
import time


def processes_of(execution_id: str) -> list[int]:
    """PIDs of live processes started for an execution (Boltdeck marks Bolt's environment)."""
    needle = f"BOLTDECK_EXECUTION_ID={execution_id}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        if stat.read().split(b") ", 1)[1][:1] != b"Z":  # zombies are already dead
                            found.append(int(entry))
        except OSError:
            continue
    return found


def wait_until(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def events_of(server, execution_id: str) -> list[dict]:
    return server.api("GET", f"/api/executions/{execution_id}/events?limit=5000").json()["events"]
