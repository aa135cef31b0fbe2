"""The fallback: any tool that prints `NN%` (curl, wget, rsync, a script of one's own)."""

from __future__ import annotations

import re

from .marker import Marker, percent_of

# A number followed by %, standing alone: not "a50%b", not "%%", not part of a version "1.2.50%".
PERCENT = re.compile(r"(?<![\w.%])(\d{1,3}(?:\.\d+)?) ?%(?![\w%])")


def detect(text: str) -> Marker | None:
    """A marker for a line that states a percentage; the phase stays neutral (the line is not shown)."""
    if "%" not in text:
        return None
    found = PERCENT.findall(text)
    percent = percent_of(found[-1]) if found else None
    return Marker("generic", "in progress", "generic", percent) if percent is not None else None
