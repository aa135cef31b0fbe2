"""The one place detectors are registered, in the order they are asked (the fallback last)."""

from __future__ import annotations

from typing import Callable

from . import apt, dnf, generic, pip, puppet, zypper
from .marker import Marker, readable

Detector = Callable[[str], "Marker | None"]
DETECTORS: tuple[Detector, ...] = (apt.detect, dnf.detect, zypper.detect, pip.detect, puppet.detect, generic.detect)


def detect(line: str) -> Marker | None:
    """The first marker a detector finds in one output line, or None."""
    text = readable(line)
    if not text:
        return None
    for detector in DETECTORS:
        marker = detector(text)
        if marker is not None:
            return marker
    return None
