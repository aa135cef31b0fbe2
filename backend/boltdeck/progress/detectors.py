"""The one place detectors are registered, in the order they are asked (the fallback last)."""

from __future__ import annotations

from typing import Callable

from . import apt, dnf, generic, pip, puppet, zypper
from .marker import Marker, readable

Detector = Callable[[str], "Marker | None"]
DETECTORS: tuple[Detector, ...] = (apt.detect, dnf.detect, zypper.detect, pip.detect, puppet.detect, generic.detect)


def _by_first_character(prefixes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    starts: dict[str, tuple[str, ...]] = {}
    for prefix in dict.fromkeys(prefixes):
        starts[prefix[0]] = (*starts.get(prefix[0], ()), prefix)
    return starts


# Every line a detector finds something in holds a `%` (apt's fancy progress, the fallback) or
# starts with one of these (every other pattern is anchored at the start). Asking that first
# spares the ordinary output line the chain's dozen regexes: ~3 µs of the ~8 a stream line
# cost the server (docs/performance.md).
STARTS = _by_first_character(apt.PREFIXES + dnf.PREFIXES + zypper.PREFIXES + pip.PREFIXES + puppet.PREFIXES)


def candidate(text: str) -> bool:
    """Whether any detector may find a marker in this readable (non-empty) text; False means none will."""
    if "%" in text:
        return True
    starts = STARTS.get(text[0])
    return starts is not None and text.startswith(starts)


def detect(line: str) -> Marker | None:
    """The first marker a detector finds in one output line, or None."""
    text = readable(line)
    if not text or not candidate(text):
        return None
    for detector in DETECTORS:
        marker = detector(text)
        if marker is not None:
            return marker
    return None
