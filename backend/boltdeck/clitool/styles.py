"""The colours of the client commands: rich styles for statuses, ANSI codes for lines written raw."""

from __future__ import annotations

RESET = "\x1b[0m"
COLORS = {
    "target": "\x1b[36m",
    "err": "\x1b[31m",
    "dim": "\x1b[2m",
    "error": "\x1b[1;31m",
    "message": "\x1b[1m",
    "success": "\x1b[32m",
    "failure": "\x1b[31m",
}
STATUS_STYLES = {"success": "green", "partial": "yellow", "failed": "red", "failure": "red", "cancelled": "yellow"}
