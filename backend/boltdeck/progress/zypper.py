"""zypper: `Retrieving ... (N/M)` downloads and `(N/M) Installing: name` steps."""

from __future__ import annotations

import re

from .marker import Marker

STEP = re.compile(r"^\((\d+)/(\d+)\) (Installing|Removing|Updating|Upgrading|Downgrading):? (\S+)")
RETRIEVING = re.compile(r"^Retrieving(?::| package) (\S+).*?\((\d+)/(\d+)\)")
CONFLICTS = "Checking for file conflicts:"
PREFIXES = ("(", "Retrieving", CONFLICTS)  # how every line a pattern above matches starts


def detect(text: str) -> Marker | None:
    """A marker for one readable line of zypper output, or None."""
    match = STEP.match(text)
    if match:
        return Marker("zypper", match[3].lower(), "transaction", None, int(match[1]), int(match[2]), match[4])
    match = RETRIEVING.match(text)
    if match:
        return Marker("zypper", "downloading", "download", None, int(match[2]), int(match[3]), match[1])
    if text.startswith(CONFLICTS):
        return Marker("zypper", "checking file conflicts", "transaction")
    return None
