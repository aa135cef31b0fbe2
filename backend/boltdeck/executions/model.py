"""Execution kinds, statuses and the rules that decide a final status."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

KINDS = ("command", "task", "puppet", "package", "apply", "plan")

QUEUED, RUNNING = "queued", "running"
SUCCESS, PARTIAL, FAILED = "success", "partial", "failed"
CANCELLED, TIMED_OUT, INTERRUPTED = "cancelled", "timed_out", "interrupted"
STATUSES = (QUEUED, RUNNING, SUCCESS, PARTIAL, FAILED, CANCELLED, TIMED_OUT, INTERRUPTED)
FINAL = frozenset({SUCCESS, PARTIAL, FAILED, CANCELLED, TIMED_OUT, INTERRUPTED})

# Which status may follow which: the one place that says so.
TRANSITIONS = {
    QUEUED: {RUNNING, CANCELLED, INTERRUPTED, FAILED},
    RUNNING: {SUCCESS, PARTIAL, FAILED, CANCELLED, TIMED_OUT, INTERRUPTED},
}

# Event types; without expert mode only the lifecycle ones are shown. `progress` and
# `resources` carry what detectors read in the output (phases, Puppet resources), never the
# output itself: they are for every viewer. A plan's `step`, `stepResult`, `message` and
# `planResult` are what its author chose to show (out::message, its steps and return value):
# for every viewer too; Bolt's own log lines stay expert-only.
PLAN_EVENTS = frozenset({"step", "stepResult", "message", "planResult"})
LIFECYCLE_EVENTS = frozenset({"start", "progress", "resources", "result", "status", "error", "complete"}) | PLAN_EVENTS
EXPERT_EVENTS = frozenset({"command", "stdout", "stderr", "log"})
EVENT_TYPES = LIFECYCLE_EVENTS | EXPERT_EVENTS

# Puppet agent --detailed-exitcodes: 0 no changes, 2 changes applied; 1, 4, 6 are failures,
# and 6 is "changes applied AND failures" (the 2 bit is set in both 2 and 6).
PUPPET_SUCCESS_CODES = frozenset({0, 2})
PUPPET_CHANGED_CODES = frozenset({2, 6})


def iso_utc(moment: datetime) -> str:
    """A moment as ISO-8601 UTC with milliseconds and a zero-padded year: sortable as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utcnow() -> str:
    return iso_utc(datetime.now(timezone.utc))


def ms_between(start_iso: str, end_iso: str) -> int:
    """Milliseconds between two timestamps written by utcnow()."""
    start = datetime.fromisoformat(start_iso.replace("Z", "+00:00"))
    end = datetime.fromisoformat(end_iso.replace("Z", "+00:00"))
    return int((end - start).total_seconds() * 1000)


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, set())


def settle_puppet_result(result: dict[str, Any]) -> dict[str, Any]:
    """Reinterpret a Puppet agent result: exit 2 (changes applied) is a success, not a failure.

    `exitCode` stays the agent's own code (Bolt's command result carries it as is); `changed`
    says whether the agent applied changes, also when it failed too (6).
    """
    if result.get("exitCode") in PUPPET_SUCCESS_CODES and result["status"] == "failure":
        error = result.get("error") or {}
        if error.get("kind") in (None, "puppetlabs.tasks/command-error"):
            result = {**result, "status": "success", "error": None}
    return {**result, "changed": result.get("exitCode") in PUPPET_CHANGED_CODES}


def settle_puppet_exit_code(bolt_exit_code: int | None, status: str) -> int | None:
    """A Puppet run's exit code as Boltdeck reads the agents: 0 when every target succeeded.

    Bolt exits 1 when any agent exits non-zero, 2 (changes applied) included; Boltdeck counts
    2 as a success, so a run that ended `success` exited 1 only because of those. Any other
    end keeps Bolt's own code; each agent's own code is in its target's result.
    """
    return 0 if status == SUCCESS and bolt_exit_code == 1 else bolt_exit_code


def final_status(results: Iterable[dict[str, Any]], expected: Iterable[str], bolt_failed: bool) -> str:
    """success when every expected target succeeded; partial when some did; failed otherwise."""
    by_target = {r["target"]: r["status"] for r in results}
    expected = list(expected) or list(by_target)
    ok = sum(1 for t in expected if by_target.get(t) == "success")
    if expected and ok == len(expected) and not (bolt_failed and not by_target):
        return SUCCESS
    return PARTIAL if ok else FAILED


def summarize(results: Iterable[dict[str, Any]], expected: Iterable[str]) -> dict[str, Any]:
    by_target = {r["target"]: r["status"] for r in results}
    targets = list(dict.fromkeys([*expected, *by_target]))
    succeeded = [t for t in targets if by_target.get(t) == "success"]
    failed = [t for t in targets if by_target.get(t) == "failure"]
    missing = [t for t in targets if t not in by_target]
    return {"targets": len(targets), "succeeded": succeeded, "failed": failed, "noResult": missing}
