"""A target's Puppet resources as a run reports them: live from its output, or from a report."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .puppet import CHANGED, FAILED, MAX_MESSAGE, NOOP, SKIPPED_STATUS, ResourceEvent

STATUSES = (CHANGED, FAILED, NOOP, SKIPPED_STATUS)
# The status a resource shows when several apply (changed, then failed): the worst one.
RANK = {SKIPPED_STATUS: 0, NOOP: 1, CHANGED: 2, FAILED: 3}
# Resources listed per target; past this the counts go on (as Puppet's summary counts them)
# and the list stops growing, so a catalog of thousands of changes cannot grow memory unbounded.
MAX_LISTED = 2000


class ResourceView:
    """The latest status of each resource of one target, its counts, and what changed since last asked."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, str]] = {}  # resource -> {resource, status, message}
        self._flags: dict[str, set[str]] = {}  # resource -> every status it had (Puppet counts each)
        self._unlisted: Counter[str] = Counter()  # statuses of resources past MAX_LISTED
        self._fresh: dict[str, None] = {}  # resources whose entry changed since the last drain, in order
        self.apply_seconds: float | None = None

    def add(self, event: ResourceEvent) -> None:
        """Take one resource line's news."""
        entry = self._entries.get(event.resource)
        if entry is None and len(self._entries) >= MAX_LISTED:
            self._unlisted[event.status] += 1
            return
        self._flags.setdefault(event.resource, set()).add(event.status)
        if entry is None or RANK[event.status] > RANK[entry["status"]]:
            entry = {"resource": event.resource, "status": event.status, "message": event.message}
            self._entries[event.resource] = entry
            self._fresh[event.resource] = None

    def counts(self) -> dict[str, int]:
        """Resources per status, as Puppet's summary counts them (a resource changed then failed is in both)."""
        counts = Counter(self._unlisted)
        for flags in self._flags.values():
            counts.update(flags)
        return {status: counts[status] for status in STATUSES}

    def drain(self) -> dict[str, Any] | None:
        """The `resources` event data for what changed since the last drain; None when nothing did."""
        if not self._fresh:
            return None
        fresh = [self._entries[name] for name in self._fresh]
        self._fresh = {}
        return {"resources": fresh, "counts": self.counts(), "applySeconds": self.apply_seconds}

    def summary(self) -> dict[str, Any]:
        """The final view, stored with the target's result."""
        return {
            **self.counts(),
            "applySeconds": self.apply_seconds,
            "resources": list(self._entries.values()),
            "truncated": bool(self._unlisted),
        }

    def __bool__(self) -> bool:
        return bool(self._flags or self._unlisted or self.apply_seconds is not None)

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> "ResourceView":
        """The view of a Puppet report (`bolt apply`'s per-target `value.report`)."""
        view = cls()
        statuses = report.get("resource_statuses")
        for name, status in (statuses if isinstance(statuses, dict) else {}).items():
            for flag in _report_flags(status):
                view.add(ResourceEvent(str(name), flag, _first_message(status)))
        view.apply_seconds = _catalog_application(report.get("metrics"))
        return view


def _report_flags(status: Any) -> list[str]:
    """The statuses of one `resource_statuses` entry: failed, changed, skipped, or noop when only out of sync."""
    if not isinstance(status, dict):
        return []
    keys = ((FAILED, "failed"), (CHANGED, "changed"), (SKIPPED_STATUS, "skipped"))
    flags = [flag for flag, key in keys if status.get(key)]
    events = status.get("events") if isinstance(status.get("events"), list) else []
    if any(isinstance(e, dict) and e.get("status") == "noop" for e in events):
        flags.append(NOOP)
    return flags


def _first_message(status: dict[str, Any]) -> str:
    events = status.get("events") if isinstance(status.get("events"), list) else []
    for event in events:
        if isinstance(event, dict) and event.get("message"):
            return str(event["message"])[:MAX_MESSAGE]
    return ""


def _catalog_application(metrics: Any) -> float | None:
    """`metrics.time` "catalog_application" of a report, in seconds."""
    try:
        values = metrics["time"]["values"]
        return next(float(value) for key, _, value in values if key == "catalog_application")
    except (KeyError, TypeError, ValueError, StopIteration):
        return None
