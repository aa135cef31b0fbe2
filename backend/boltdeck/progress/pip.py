"""pip: collecting, downloading, building and installing (its bars give no percent in text)."""

from __future__ import annotations

import re

from .marker import Marker

LINE = re.compile(
    r"^(Collecting|Downloading|Using cached|Building wheels? for|Installing collected packages:|Successfully installed)"
    r" ?(\S*)"
)
PHASES = {
    "Collecting": "collecting",
    "Downloading": "downloading",
    "Using cached": "downloading",
    "Building wheel for": "building",
    "Building wheels for": "building",
    "Installing collected packages:": "installing",
    "Successfully installed": "installed",
}
PREFIXES = tuple(PHASES)  # how every line LINE matches starts


def detect(text: str) -> Marker | None:
    """A marker for one readable line of pip output, or None."""
    match = LINE.match(text)
    if not match:
        return None
    item = match[2].rstrip(",") or None
    return Marker("pip", PHASES[match[1]], "pip", item=item)
