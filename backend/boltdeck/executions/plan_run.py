"""What a running Bolt plan adds to an execution: its live step tree and its outcome.

Bolt prints a plan's steps as log lines on stderr (`--log-level info`) and, at the very end,
the plan's return value (or its error) as one line on stdout. `PlanRun` turns the first
into `step`, `stepResult` and `message` events as they come, and the second into the
`planResult` event and, when the value is a ResultSet, the execution's per-target results.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from ..bolt.plan_steps import PlanSteps, plan_outcome, results_of_outcome
from ..bolt.argv import REDACTED

# Records one event: (type, data, target).
EventSink = Callable[[str, dict[str, Any], "str | None"], None]


class PlanRun:
    def __init__(self, record: EventSink, secrets: Iterable[Any] = ()):
        self._record = record
        self._steps = PlanSteps()
        self._secrets = _secret_texts(secrets)
        self._outcome: tuple[str, bool] | None = None  # the last non-stream stdout line, and whether it was cut
        self.value: Any = None
        self.error: dict[str, Any] | None = None
        self.failed = False

    def mask(self, text: str) -> str:
        """A line of Bolt's with the plan's Sensitive values hidden.

        Bolt logs a task's parameters (`Running task X with '{...}'`) in clear once a plan has
        unwrapped them, and a plan may put one in a command or its return value: nothing
        Boltdeck records of a plan run holds them (a JSON-encoded one stays valid JSON).
        """
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def on_stderr(self, text: str) -> None:
        """One stderr line, its ANSI codes still on (they tell Bolt's log lines from out::message)."""
        for type_, data, target in self._steps.feed_stderr(self.mask(text) if self._secrets else text):
            self._record(type_, data, target)

    def on_outcome_line(self, text: str, cut: bool) -> str | None:
        """A stdout line that is not a target's output: the newest may be the plan's outcome.

        Returns the line it replaces as the candidate (an earlier one), for the log.
        """
        earlier = self._outcome[0] if self._outcome else None
        self._outcome = (text, cut)
        return earlier

    def finish(self, exit_code: int | None, crashed: bool = False) -> list[dict[str, Any]]:
        """Record the plan's end: its open steps closed, `planResult`; returns its per-target results.

        Sets `failed`: by exit code, by error, or by returning results with a failure (Bolt exits 0 then).
        """
        text, cut = self._outcome if self._outcome is not None else (None, False)
        if cut:
            self.error = {
                "kind": "boltdeck/plan-result-too-long",
                "issueCode": None,
                "message": "the plan's return value was longer than BOLTDECK_MAX_OUTPUT_BYTES and is not kept",
                "details": {},
            }
        else:
            self.value, self.error = plan_outcome(text, exit_code)
        results = results_of_outcome(self.value, self.error)
        self.failed = (
            crashed or exit_code != 0 or self.error is not None or any(r["status"] != "success" for r in results)
        )
        for type_, data, target in self._steps.close(self.failed):
            self._record(type_, data, target)
        self._record("planResult", {"value": self.value, "error": self.error}, None)
        return results


def _secret_texts(values: Iterable[Any]) -> list[str]:
    """Each Sensitive value as it may appear in a log line: as given, and JSON-encoded inside a string."""
    texts: set[str] = set()
    for value in values:
        plain = value if isinstance(value, str) else json.dumps(value)
        encoded = json.dumps(plain)[1:-1]
        texts.update(t for t in (plain, encoded) if len(t) >= 1)
    return sorted(texts, key=len, reverse=True)  # the longest first: a shorter one may be inside it
