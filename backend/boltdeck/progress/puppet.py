"""Puppet agent and apply: the run's phases, and each resource changed, failed, skipped or noop.

Lines as `puppet agent --test` and `puppet apply --test` print them with `--color=false`
(tests/progress/fixtures/puppet_apply_*.out are real captures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .marker import Marker

PHASES = (
    ("Info: Retrieving pluginfacts", "retrieving pluginfacts"),
    ("Info: Retrieving plugin", "retrieving plugins"),
    ("Info: Retrieving locales", "retrieving locales"),
    ("Info: Loading facts", "loading facts"),
    ("Notice: Requesting catalog from", "requesting catalog"),
    ("Notice: Catalog compiled by", "catalog compiled"),
    ("Notice: Compiled catalog for", "catalog compiled"),
    ("Info: Caching catalog for", "caching catalog"),
    ("Info: Applying configuration version", "applying catalog"),
)
# How every line `detect` or `resource_event` finds something in starts.
PREFIXES = ("Info: ", "Notice: ", "Error: ", "Warning: ")
APPLIED = re.compile(r"^Notice: Applied catalog in ([\d.]+) seconds")
# `/Stage[main]/Main/File[/etc/motd]/content: message`: the path is greedy up to the last `]`
# before `/property: `, so titles holding `/` or `]` stay whole.
CHANGE = re.compile(r"^Notice: /(Stage\[.*\])/([a-z_][a-z0-9_]*): (.*)$")
FAILURE = re.compile(r"^Error: /(Stage\[.*\])(?:/([a-z_][a-z0-9_]*))?: (.*)$")
SKIPPED = re.compile(r"^Warning: /(Stage\[.*\]): Skipping because of failed dependencies")
RESOURCE_START = re.compile(r"(?:^|/)([A-Z][A-Za-z0-9_:]*\[)")
NOOP_SUFFIX = "(noop)"
MAX_MESSAGE = 300  # a resource's message as shown in the resource view, in characters

CHANGED, FAILED, NOOP, SKIPPED_STATUS = "changed", "failed", "noop", "skipped"


@dataclass(frozen=True)
class ResourceEvent:
    """One resource line: which resource, what happened to it, and Puppet's message."""

    resource: str
    status: str  # changed | failed | noop | skipped
    message: str


def detect(text: str) -> Marker | None:
    """A phase marker for one readable line of Puppet output, or None."""
    if not text.startswith(PREFIXES):
        return None
    for prefix, phase in PHASES:
        if text.startswith(prefix):
            return Marker("puppet", phase, "puppet")
    if APPLIED.match(text):
        return Marker("puppet", "catalog applied", "puppet")
    event = resource_event(text)
    return Marker("puppet", "applying catalog", "puppet", item=event.resource) if event else None


def resource_event(text: str) -> ResourceEvent | None:
    """The resource a line reports on, or None when it reports on none."""
    if match := CHANGE.match(text):
        status = NOOP if match[3].endswith(NOOP_SUFFIX) else CHANGED
        return ResourceEvent(_resource(match[1]), status, match[3][:MAX_MESSAGE])
    if match := FAILURE.match(text):
        return ResourceEvent(_resource(match[1]), FAILED, match[3][:MAX_MESSAGE])
    if match := SKIPPED.match(text):
        return ResourceEvent(_resource(match[1]), SKIPPED_STATUS, "skipped because of failed dependencies")
    return None


def applied_seconds(text: str) -> float | None:
    """The catalog apply time of an `Applied catalog in N seconds` line."""
    match = APPLIED.match(text)
    return float(match[1]) if match else None


def _resource(path: str) -> str:
    """`Stage[main]/Main/File[/etc/motd]` -> `File[/etc/motd]`: the innermost resource of a path."""
    starts = [m.start(1) for m in RESOURCE_START.finditer(path)]
    return path[starts[-1] :] if starts else path
