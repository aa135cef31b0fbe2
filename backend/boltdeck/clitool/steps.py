"""A plan's step tree as terminal lines: steps nested under their (sub-)plans, results under their step.

`StepTree` is pure: it turns the data of `step`, `stepResult`, `message` and `planResult`
events (and, in expert mode, output lines) into `Line`s with a depth and a style, in the order
they came, so the live view only writes them and tests read them. Lines read like Bolt's own
log (`Starting:` / `Finished:`), so a Bolt user recognises them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..client import TargetResult

INDENT = "  "


@dataclass(frozen=True)
class Line:
    """One line of the tree: text at a depth; `stream` (stdout/stderr) marks a target's output line."""

    text: str
    depth: int = 0
    style: str | None = None  # a status (success, failure, ...), or "message", "error", "dim"
    target: str | None = None
    stream: str | None = None

    @property
    def indent(self) -> str:
        return INDENT * self.depth


@dataclass
class Step:
    """A step as its start event named it; `depth` counts the plans it is nested in, the top plan at 0."""

    id: str
    label: str
    targets: list[str]
    depth: int


class StepTree:
    """The lines each plan event adds to the tree; it remembers which steps are open, and how deep."""

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
        self.open: list[Step] = []  # in start order: the last one including a target holds its output
        self.last_shown: str | None = None  # the step whose line came last: results under another name it

    def step(self, data: dict[str, Any]) -> list[Line]:
        """A step's start (under its plan) or finish (its status, failures and duration)."""
        if data.get("phase") == "start":
            return [self._started(data)]
        step = self.steps.get(str(data.get("id")))
        if step is None:  # its start was not seen (a stream followed from later on): show it at the top
            step = Step(str(data.get("id")), _label(data), [], 0)
        self.open = [other for other in self.open if other.id != step.id]
        self.last_shown = step.id
        status = data.get("status") or "finished"
        return [Line(f"Finished: {step.label}: {_outcome(status, data)}", step.depth, status)]

    def _started(self, data: dict[str, Any]) -> Line:
        parent = self.steps.get(str(data.get("parent")))
        targets = [str(name) for name in data.get("targets") or []]
        depth = parent.depth + 1 if parent else 0
        step = Step(str(data.get("id")), _label(data), targets, depth)
        self.steps[step.id] = step
        self.open.append(step)
        self.last_shown = step.id
        where = f" on {', '.join(targets)}" if targets else ""
        return Line(f"Starting: {step.label}{where}", step.depth)

    def result(self, data: dict[str, Any], with_output: bool) -> list[Line]:
        """A step's result on one target; with its output when no live lines showed it (not expert mode)."""
        result = TargetResult.from_json(data)
        step = self.steps.get(str(data.get("step")))
        depth = step.depth + 1 if step else 0
        text = f"{result.target}: {result.status}"
        if result.exit_code is not None:
            text += f", exit {result.exit_code}"
        message = (result.error or {}).get("message")
        if message and result.status != "success":
            text += f": {message}"
        if step is not None and self.last_shown != step.id:  # another step's line came between
            text += f" ({step.label})"
        lines = [Line(text, depth, result.status)]
        if with_output:
            lines += _output_lines(result, depth + 1)
        return lines

    def output(self, target: str | None, stream: str, text: str) -> Line:
        """A live output line (expert mode), under the open step that runs on its target."""
        holder = next((step for step in reversed(self.open) if target in step.targets), None)
        holder = holder or (self.open[-1] if self.open else None)
        return Line(text, holder.depth + 1 if holder else 0, target=target, stream=stream)

    def message(self, data: dict[str, Any]) -> list[Line]:
        """An `out::message` text, under the plan that printed it."""
        plan = self.steps.get(str(data.get("step")))
        depth = plan.depth + 1 if plan else 0
        return [Line(text, depth, "message") for text in str(data.get("text", "")).split("\n")]

    def plan_result(self, data: dict[str, Any]) -> list[Line]:
        """The plan's return value as JSON, or its error with the details Bolt gave."""
        error = data.get("error")
        if error:
            kind = f" ({error['kind']})" if error.get("kind") else ""
            lines = [Line(f"Plan failed: {error.get('message') or 'no message'}{kind}", 0, "error")]
            if error.get("details"):
                lines.append(Line(json.dumps(error["details"], ensure_ascii=False), 1, "dim"))
            return lines
        if data.get("value") is None:
            return []
        text = json.dumps(data["value"], indent=2, ensure_ascii=False)
        return [Line("Returned:", 0)] + [Line(part) for part in text.split("\n")]


def _label(data: dict[str, Any]) -> str:
    """`command 'echo hi'` as Bolt writes a command; `task demo::hello`, `plan demo::outer` otherwise."""
    kind, what = data.get("kind") or "step", str(data.get("object") or "")
    if kind == "command":
        what = f"'{what}'"
    return f"{kind} {what}".strip()


def _outcome(status: str, data: dict[str, Any]) -> str:
    failures, seconds = data.get("failures"), data.get("durationSeconds")
    text = status
    if failures:
        text += f" ({failures} failure{'s' if failures != 1 else ''})"
    if seconds is not None:
        text += f" in {seconds:.2f} s"
    return text


def _output_lines(result: TargetResult, depth: int) -> list[Line]:
    return [
        Line(line, depth, target=result.target, stream=stream)
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr))
        for line in text.removesuffix("\n").split("\n")
        if text
    ]
