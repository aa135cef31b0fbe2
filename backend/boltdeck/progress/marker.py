"""What a detector reports about one output line, and the line as detectors read it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..bolt.parser import ANSI

# Bolt's ANSI pattern, plus the cursor save/restore (ESC 7, ESC 8) dpkg's fancy progress draws with.
ESCAPES = re.compile(rf"{ANSI.pattern}|\x1b[78=>]")


@dataclass(frozen=True)
class Marker:
    """A progress marker: the phase a tool says it is in, and how far, only as far as it says.

    `stage` groups phases that share one percent (dpkg's unpacking and setting up sit under
    apt's one `Progress: [ NN%]`): a percent holds for the rest of its stage.
    """

    tool: str
    phase: str
    stage: str
    percent: float | None = None
    current: int | None = None
    total: int | None = None
    item: str | None = None  # the package, file or resource the line is about

    def data(self) -> dict:
        """The marker as event data: the fields the tool gave, no nulls."""
        return {key: value for key, value in asdict(self).items() if value is not None and key != "stage"}


def readable(line: str) -> str:
    """The part of a line a terminal would show last: ANSI escapes gone, the last carriage-return segment.

    Tools redraw a status line with `\\r` (apt's "Reading package lists... 62%") or escapes
    (dpkg's fancy progress); what was drawn last is what the line says now.
    """
    if "\x1b" in line:
        line = ESCAPES.sub("", line)
    if "\r" in line:
        segments = [part for part in line.split("\r") if part.strip()]
        line = segments[-1] if segments else ""
    return line.strip()


def percent_of(text: str) -> float | None:
    """A percentage as the tool wrote it, or None when it is not one (over 100)."""
    value = float(text)
    return value if 0 <= value <= 100 else None
