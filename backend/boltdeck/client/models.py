"""Typed records of what the API answers: events, executions, per-target results, exec chunks.

Names are snake_case here; the API's camelCase JSON stays in `raw` for tools that want it whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FINAL_STATUSES = frozenset({"success", "partial", "failed", "cancelled", "timed_out", "interrupted"})


@dataclass(frozen=True)
class Event:
    """One event of an execution's log: `seq` orders them, `type` says what it is (docs/api.md, Events)."""

    seq: int
    type: str
    execution_id: str
    timestamp: str
    target: str | None
    data: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "Event":
        return cls(
            seq=int(obj["seq"]),
            type=obj["type"],
            execution_id=obj.get("executionId", ""),
            timestamp=obj.get("timestamp", ""),
            target=obj.get("target"),
            data=obj.get("data") or {},
            raw=obj,
        )


@dataclass(frozen=True)
class TargetResult:
    """One target's final result: the command's own `exit_code`, exactly what it printed, Bolt's error if any."""

    target: str
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    value: Any
    error: dict[str, Any] | None
    changed: bool | None = None
    truncated: bool = False
    puppet: dict[str, Any] | None = None  # a Puppet run's resource summary: counts, applySeconds, resources

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "TargetResult":
        return cls(
            target=obj["target"],
            status=obj.get("status", ""),
            exit_code=obj.get("exitCode"),
            stdout=obj.get("stdout") or "",
            stderr=obj.get("stderr") or "",
            value=obj.get("value"),
            error=obj.get("error"),
            changed=obj.get("changed"),
            truncated=bool(obj.get("truncated")),
            puppet=obj.get("puppet"),
        )


@dataclass(frozen=True)
class Execution:
    """An execution as `GET /api/executions/<id>` shows it (list items have no `results`)."""

    id: str
    kind: str
    status: str
    targets: list[str]
    exit_code: int | None
    duration_ms: int | None
    created_at: str | None
    finished_at: str | None
    created_by: str | None
    expert_mode: bool
    command_line: str | None
    summary: dict[str, Any] | None
    results: list[TargetResult]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "Execution":
        return cls(
            id=obj["id"],
            kind=obj.get("kind", ""),
            status=obj["status"],
            targets=list(obj.get("targets") or []),
            exit_code=obj.get("exitCode"),
            duration_ms=obj.get("durationMs"),
            created_at=obj.get("createdAt"),
            finished_at=obj.get("finishedAt"),
            created_by=obj.get("createdBy"),
            expert_mode=bool(obj.get("expertMode")),
            command_line=obj.get("commandLine"),
            summary=obj.get("summary"),
            results=[TargetResult.from_json(r) for r in obj.get("results") or []],
            raw=obj,
        )


@dataclass(frozen=True)
class ExecutionPage:
    """One page of the history, newest first; `total` counts every match."""

    items: list[Execution]
    total: int
    limit: int
    offset: int

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "ExecutionPage":
        items = [Execution.from_json(item) for item in obj.get("items") or []]
        total, limit, offset = obj.get("total", len(items)), obj.get("limit", 0), obj.get("offset", 0)
        return cls(items=items, total=total, limit=limit, offset=offset)


@dataclass(frozen=True)
class Chunk:
    """A piece of `exec_stream` output (`type` stdout or stderr, or a plan's `message`), or the last one (`done`).

    The last chunk (type `done`) holds the status, and for a plan its return value in `value`.
    """

    type: str
    target: str | None
    output: str
    seq: int
    execution_id: str
    done: bool = False
    status: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None
    value: Any = None


@dataclass(frozen=True)
class ExecResult:
    """What `exec` returns once the execution has finished.

    `output` is what the command printed (stdout then stderr): as is on one target; on several,
    each line prefixed `[target] `, targets in the execution's order, like the output download.
    `exit_code` is the command's own on one target; on several, Bolt's (0 when every target
    succeeded, else 1), with each target's own in `results`.

    For a plan, `output` is what its steps printed, step by step; `results` come from its
    return value when that is a ResultSet; `value` is the return value, `error` the plan's
    error (`kind`, `issueCode`, `message`, `details`) when it failed; `exit_code` is Bolt's.
    """

    execution_id: str
    status: str
    exit_code: int | None
    duration_ms: int | None
    output: str
    results: list[TargetResult]
    value: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"
