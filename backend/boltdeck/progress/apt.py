"""apt, apt-get and dpkg: list reading, downloads, dpkg's phases and Dpkg::Progress-Fancy."""

from __future__ import annotations

import re

from .marker import Marker, percent_of

# Dpkg::Progress-Fancy redraws a status line; several may share one output line, the last counts.
FANCY = re.compile(r"Progress: \[\s*(\d{1,3})%\]")
FANCY_BAR = re.compile(r"Progress: \[\s*\d{1,3}%\]\s*(?:\[[#.]*\])?\s*")
# "Reading package lists... 62%", "Building dependency tree... Done", "(Reading database ... 45%"
STATUS = re.compile(
    r"^\(?(Reading package lists|Building dependency tree|Reading state information|Reading database)"
    r"\s?\.\.\.\s*(?:(\d{1,3})%)?"
)
DOWNLOAD = re.compile(r"^(Get|Hit|Ign):(\d+) \S+")
FETCHED = re.compile(r"^Fetched \S+ \S+ in ")
# dpkg's own phases, with the package they name
DPKG = re.compile(
    r"^(Preparing to unpack|Unpacking|Setting up|Removing|Purging configuration files for|"
    r"Selecting previously unselected package|Processing triggers for) (?:\.\.\./)?(\w[^\s(]*)"
)
DPKG_PHASES = {
    "Preparing to unpack": "preparing",
    "Unpacking": "unpacking",
    "Setting up": "setting up",
    "Removing": "removing",
    "Purging configuration files for": "purging",
    "Selecting previously unselected package": "selecting",
    "Processing triggers for": "processing triggers",
}
# How every line a pattern above matches starts (the fancy progress line holds a `%`).
PREFIXES = ("(", "Reading ", "Building dependency tree", "Get:", "Hit:", "Ign:", "Fetched ", *DPKG_PHASES)


def detect(text: str) -> Marker | None:
    """A marker for one readable line of apt or dpkg output, or None."""
    fancy = FANCY.findall(text)
    if fancy:
        rest = FANCY_BAR.split(text)[-1].strip()
        phase = _dpkg(rest) if rest else None
        return Marker("apt", phase.phase if phase else "installing", "dpkg", percent_of(fancy[-1]),
                      item=phase.item if phase else None)
    return _status(text) or _download(text) or _dpkg(text)


def _status(text: str) -> Marker | None:
    match = STATUS.match(text)
    if not match:
        return None
    percent = percent_of(match[2]) if match[2] else None
    return Marker("apt", match[1].lower(), "lists", percent)


def _download(text: str) -> Marker | None:
    match = DOWNLOAD.match(text)
    if match:
        return Marker("apt", "downloading", "download", current=int(match[2]))
    if FETCHED.match(text):
        return Marker("apt", "downloaded", "download")
    return None


def _dpkg(text: str) -> Marker | None:
    match = DPKG.match(text)
    if not match:
        return None
    item = match[2].rsplit("/", 1)[-1].rstrip(".")
    return Marker("dpkg", DPKG_PHASES[match[1]], "dpkg", item=item)
