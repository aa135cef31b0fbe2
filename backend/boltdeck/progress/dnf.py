"""dnf and yum: downloads, the transaction's steps and each package's `N/M` within it."""

from __future__ import annotations

import re

from .marker import Marker

STEP = re.compile(
    r"^(Preparing|Installing|Upgrading|Updating|Downgrading|Reinstalling|Erasing|Removing|Cleanup|"
    r"Obsoleting|Running scriptlet|Verifying)\s*:\s*(\S*)\s+(\d+)/(\d+)$"
)
DOWNLOAD = re.compile(r"^\((\d+)/(\d+)\): (\S+)")
PHASES = {
    "Downloading Packages:": "downloading",
    "Running transaction check": "checking transaction",
    "Running transaction test": "testing transaction",
    "Running transaction": "running transaction",
    "Complete!": "complete",
}
# How every line a pattern above matches starts.
PREFIXES = (
    "(", "Preparing", "Installing", "Upgrading", "Updating", "Downgrading", "Reinstalling", "Erasing", "Removing",
    "Cleanup", "Obsoleting", "Running", "Verifying", *PHASES,
)


def detect(text: str) -> Marker | None:
    """A marker for one readable line of dnf or yum output, or None."""
    match = STEP.match(text)
    if match:
        return Marker("dnf", match[1].lower(), "transaction", None, int(match[3]), int(match[4]), match[2] or None)
    match = DOWNLOAD.match(text)
    if match:
        return Marker("dnf", "downloading", "download", None, int(match[1]), int(match[2]), match[3])
    phase = PHASES.get(text)
    return Marker("dnf", phase, "transaction") if phase else None
