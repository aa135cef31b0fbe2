"""A plan's steps from what `bolt plan run --log-level info` writes on stderr; its outcome from stdout.

Every log line ends in ESC[0m. Bolt's event thread writes, in order, `Starting:` / `Finished:`
for each plan and step and each `out::message` text (once plain, then again as a log line).
The worker threads write `Running ...` and each target's result (a JSON line) directly, so a
result may come before the `Starting:` of its step (tests/bolt_samples/plan_stream_*): it
waits for that step. Bolt names no step by id: steps are told apart by their description
and targets, and `parallelize` can start identical ones side by side.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .parser import ANSI, error_of, result_of

Event = tuple[str, dict[str, Any], str | None]  # (type, data, target), as the recorder takes them

RESET = "\x1b[0m"
# Step kinds whose description Bolt wrote itself ("command 'CMD'", "task NAME", ...): their
# results must match them. Another description was the plan's own: any result fits it.
BOLT_KINDS = frozenset({"command", "task", "script", "upload", "download"})
_RESULT_KEYS = frozenset({"target", "action", "status", "value"})  # the keys of every Bolt Result


@dataclass(eq=False)
class _Step:
    id: str
    kind: str
    object: str | None
    description: str  # as Bolt logs it, which its `Finished:` line repeats
    parent: _Step | None
    targets: list[str]
    count: int  # targets, also when Bolt named only their number ("on 12 targets")
    results: set[str] = field(default_factory=set)  # targets whose result came
    failed: bool = False
    seconds: float | None = None  # the top plan's duration, from its `Finished:` line

    def takes(self, item: dict[str, Any]) -> bool:
        """Whether this step is the one a result item belongs to (as far as one can tell)."""
        target = str(item.get("target"))
        if self.kind == "plan" or target in self.results or len(self.results) >= self.count:
            return False
        if self.targets and target not in self.targets:
            return False
        if self.kind not in BOLT_KINDS:
            return True
        same_object = item.get("object") in (None, self.object) or self.kind in ("upload", "download")
        return item.get("action") == self.kind and same_object


class PlanSteps:
    """The step tracker of one plan execution: feed it each stderr line, then `close()` it at the end.

    A step fails when Bolt counts failures in it or one of its results failed; a (sub-)plan, when
    something inside it failed. The top plan's status is the run's own (see `close`): a plan may
    catch its steps' failures, and `fail_plan` leaves no trace on stderr.
    """

    def __init__(self) -> None:
        self._opened = 0
        self._open: list[_Step] = []  # in the order they started
        self._top: _Step | None = None  # the plan run, finished by `close` (open or not)
        self._waiting: list[dict[str, Any]] = []  # result items that came before their step
        self._echoes: deque[str] = deque()  # message lines whose log copy is still to come

    def feed_stderr(self, raw_text: str) -> list[Event]:
        """The events one stderr line (ANSI escapes kept) makes: step, stepResult, message, or none."""
        line = raw_text.rstrip("\r\n")
        if line.endswith(RESET):
            text = line[: -len(RESET)]
            return self._log(ANSI.sub("", text) if "\x1b" in text else text)
        if self._echoes and line == self._echoes[0]:  # a line of a multi-line message's log copy
            self._echoes.popleft()
            return []
        plan = self._innermost_plan()
        if plan is None or not line.strip() or line.startswith("\x1b"):
            return []  # not out::message text: that prints only while a plan runs, and plain
        self._echoes.append(line)
        return [("message", {"text": line, "step": plan.id}, None)]

    def close(self, failed: bool) -> list[Event]:
        """Bolt has ended and the run `failed` or not: results that found no step, a failed finish for
        each step still open (Bolt was stopped), then the top plan's finish with the run's status."""
        events: list[Event] = [("stepResult", {"step": None, **result_of(i)}, str(i["target"])) for i in self._waiting]
        self._waiting.clear()
        top, self._top = self._top, None
        for step in reversed([s for s in self._open if s is not top]):
            events.append(self._finished(step, None, None, failed=True))
        if top is not None:
            top.failed = failed
            events.append(self._finished(top, None, top.seconds))
        return events

    def _log(self, text: str) -> list[Event]:
        if self._echoes and text == self._echoes[0]:
            self._echoes.popleft()
            return []
        if text.startswith("Starting: "):
            return self._starting(text[10:])
        if text.startswith("Finished: "):
            return self._finishing(text[10:])
        if text[:1] in ("{", "["):
            return self._results(text)
        return []

    def _starting(self, rest: str) -> list[Event]:
        """`plan NAME`, or `DESCRIPTION on T1, T2` (`on N targets` past five)."""
        description, on, names = rest.rpartition(" on ")
        if not on:
            word, _, name = rest.partition(" ")
            return self._start_plan(name) if word == "plan" and name and " " not in name else []
        count, _, word = names.partition(" ")
        if count.isdigit() and word == "targets":
            targets, total = [], int(count)
        else:
            targets = names.split(", ")
            total = len(targets)
        kind, obj = _kind_and_object(description)
        step = self._start(kind, obj, description, self._innermost_plan(), targets, total)
        events = [self._start_event(step)]
        for item in list(self._waiting):
            if step.takes(item):
                self._waiting.remove(item)
                events.append(self._result(step, item))
        return events

    def _start_plan(self, name: str) -> list[Event]:
        parent = self._innermost_plan()
        if parent is not None and parent.object == name:  # copies started by parallelize: siblings
            parent = parent.parent
        step = self._start("plan", name, f"plan {name}", parent, [], 0)
        if parent is None and self._top is None:
            self._top = step
        return [self._start_event(step)]

    def _start(
        self, kind: str, obj: str | None, description: str, parent: _Step | None, targets: list[str], count: int
    ) -> _Step:
        self._opened += 1
        step = _Step(f"s{self._opened}", kind, obj, description, parent, targets, count)
        self._open.append(step)
        return step

    def _finishing(self, rest: str) -> list[Event]:
        """`DESCRIPTION with N failure(s) in S sec`, or `plan NAME in S sec`."""
        description, with_, tail = rest.rpartition(" with ")
        words = tail.split(" ")
        if with_ and len(words) == 5 and words[0].isdigit() and words[1] in ("failure", "failures"):
            same = [s for s in self._open if s.kind != "plan" and s.description == description]
            step = next((s for s in same if len(s.results) >= s.count), same[0] if same else None)
            return [self._finished(step, int(words[0]), _seconds(words[3]))] if step else []
        words = rest.split(" ")
        if len(words) == 5 and words[0] == "plan" and words[2:5:2] == ["in", "sec"]:
            plans = [s for s in self._open if s.kind == "plan" and s.object == words[1]]
            if not plans:
                return []
            if plans[-1] is self._top:  # it finishes in `close`, with the run's status
                self._top.seconds = _seconds(words[3])
                self._open.remove(self._top)
                return []
            return [self._finished(plans[-1], None, _seconds(words[3]))]
        return []

    def _results(self, text: str) -> list[Event]:
        """A result line: one Result, or a list of them (a batch); others are not steps' business."""
        try:
            data = json.loads(text)
        except ValueError:
            return []
        events = []
        for item in data if isinstance(data, list) else [data]:
            if _is_result(item):
                step = next((s for s in self._open if s.takes(item)), None)
                if step is None:
                    self._waiting.append(item)
                else:
                    events.append(self._result(step, item))
        return events

    def _result(self, step: _Step, item: dict[str, Any]) -> Event:
        result = result_of(item)
        step.results.add(result["target"])
        if result["status"] != "success":
            _fail(step)
        return ("stepResult", {"step": step.id, **result}, result["target"])

    def _finished(self, step: _Step, failures: int | None, seconds: float | None, failed: bool = False) -> Event:
        """Close a step; it failed if told so, if Bolt counted failures or if anything inside it failed."""
        self._open = [s for s in self._open if s is not step]
        if failed or failures:
            _fail(step)
        data = {
            "id": step.id,
            "phase": "finish",
            "kind": step.kind,
            "object": step.object,
            "status": "failure" if step.failed else "success",
            "failures": failures,
            "durationSeconds": seconds,
        }
        return ("step", data, None)

    def _start_event(self, step: _Step) -> Event:
        data = {
            "id": step.id,
            "parent": step.parent.id if step.parent else None,
            "phase": "start",
            "kind": step.kind,
            "object": step.object,
            "targets": step.targets,
        }
        return ("step", data, None)

    def _innermost_plan(self) -> _Step | None:
        return next((s for s in reversed(self._open) if s.kind == "plan"), None)


def plan_outcome(line: str | None, exit_code: int | None) -> tuple[Any, dict[str, Any] | None]:
    """The plan's return value, or its error in Boltdeck's shape, from its last stdout line.

    Only the exit code tells Bolt's error from a value: a plan that returns an error it caught
    prints the same `{"kind", "msg", "details"}` object, with exit code 0.
    """
    text = (line or "").strip()
    if not text:
        return None, None
    try:
        value = json.loads(text)
    except ValueError:
        value = text  # not JSON: what Bolt printed instead, kept as text
    if exit_code == 0:
        return value, None
    if isinstance(value, dict) and "kind" in value and "msg" in value:
        return None, error_of(value)
    return None, {"kind": None, "issueCode": None, "message": text, "details": {}}


def results_of_outcome(value: Any, error: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Per-target results of a plan: its returned ResultSet or Result, or its error's `result_set`."""
    if error is not None:
        details = error.get("details")
        value = details.get("result_set") if isinstance(details, dict) else None
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not items or not all(_is_result(item) for item in items):
        return []
    return [result_of(item) for item in items]


def _kind_and_object(description: str) -> tuple[str, str | None]:
    """`command 'echo hi'` → (command, echo hi), `file upload from A to B` → (upload, A to B),
    a plan's own description `Say hi` → (Say, hi)."""
    kind, _, rest = description.partition(" ")
    if kind == "command" and len(rest) > 1 and rest[0] == rest[-1] == "'":
        return kind, rest[1:-1]
    if kind == "file":
        for action in ("upload", "download"):
            if rest.startswith(f"{action} from "):
                return action, rest[len(action) + 6 :]
    return kind, rest or None


def _is_result(item: Any) -> bool:
    return isinstance(item, dict) and _RESULT_KEYS <= item.keys()


def _seconds(word: str) -> float | None:
    try:
        return float(word)
    except ValueError:
        return None


def _fail(step: _Step | None) -> None:
    """Mark a step failed, and the plans it runs in: a plan fails when anything inside it failed."""
    while step is not None:
        step.failed = True
        step = step.parent
