"""Progress per target without expert mode: the phase a tool is in, how far, and Puppet's resource counts.

Fed by `progress` and `resources` events (the same the web UI's progress board and resource
view read: detectors' findings, never the output itself). On a terminal, `LiveBoard` keeps
one line per target updated in place (rich); elsewhere `LineBoard` writes a line only when
what a target shows has changed, so a log file gets the story without the flood.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..client import TargetResult
from .styles import STATUS_STYLES

RESOURCE_STATUSES = ("changed", "failed", "noop", "skipped")
BAR_WIDTH = 20


def phase_text(data: dict[str, Any]) -> str:
    """`apt: Unpacking curl 3/5 40%`: the tool, its phase, the item, N of M and the percent it said."""
    text = f"{data['tool']}: " if data.get("tool") else ""
    text += str(data.get("phase") or "")
    if data.get("item"):
        text += f" {data['item']}"
    if data.get("current") and data.get("total"):
        text += f" {data['current']}/{data['total']}"
    if isinstance(data.get("percent"), (int, float)):
        text += f" {round(data['percent'])}%"
    return text


def counts_text(data: dict[str, Any]) -> str:
    """`changed 3, failed 1, noop 0, skipped 0 (applied in 2.1 s)` from `resources` data or a result's summary."""
    counts = data.get("counts", data)
    text = ", ".join(f"{status} {counts.get(status) or 0}" for status in RESOURCE_STATUSES)
    seconds = data.get("applySeconds")
    return text + (f" (applied in {seconds:g} s)" if isinstance(seconds, (int, float)) else "")


def fraction(data: dict[str, Any]) -> float | None:
    """How far, 0 to 1, when the tool said (a percent, or N of M); None: nobody knows."""
    if isinstance(data.get("percent"), (int, float)):
        return max(0.0, min(1.0, data["percent"] / 100))
    if data.get("current") and data.get("total"):
        return max(0.0, min(1.0, data["current"] / data["total"]))
    return None


def text_bar(done: float | None, width: int = BAR_WIDTH) -> str:
    """A bar of `width` characters, or nothing when how far is unknown (the spinner says it is alive)."""
    if done is None:
        return ""
    full = round(done * width)
    return "█" * full + "░" * (width - full)


class LineBoard:
    """Where the progress is not on a terminal: `[target] phase` through `write` (stderr), once per change."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.shown: dict[tuple[str, str], str] = {}

    def phase(self, target: str, data: dict[str, Any]) -> None:
        self._show(target, "phase", phase_text(data))

    def resources(self, target: str, data: dict[str, Any]) -> None:
        self._show(target, "resources", f"puppet resources: {counts_text(data)}")

    def _show(self, target: str, what: str, text: str) -> None:
        if text and self.shown.get((target, what)) != text:
            self.shown[(target, what)] = text
            self.write(f"[{target}] {text}")

    def finish(self, result: TargetResult) -> None:
        """The result says it all (the summary table follows)."""

    def stop(self) -> None:
        """Nothing is drawn in place: nothing to take off."""


class LiveBoard:
    """rich's live display on stderr, one line per target: spinner, phase, counts, a bar, time.

    Rows come from the start's targets (a command's), or with a target's first progress (a
    plan's steps name their targets as they go). The display starts with the first row.
    """

    def __init__(self, console, targets: list[str]):
        self.display = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.description}", markup=False),
            TextColumn("{task.fields[state]}"),
            TextColumn("{task.fields[bar]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,  # the summary table replaces it
            # what is written meanwhile is printed above the display; a piped stdout is left as it is
            redirect_stdout=sys.stdout.isatty(),
            redirect_stderr=True,
        )
        self.rows: dict[str, Any] = {}
        self.phases: dict[str, str] = {}
        self.counts: dict[str, str] = {}
        self.started = False
        for name in targets:
            self._row(name)

    def _row(self, target: str):
        if target not in self.rows:
            self.rows[target] = self.display.add_task(target, total=1, state="running", bar="")
            if not self.started:
                self.display.start()
                self.started = True
        return self.rows[target]

    def phase(self, target: str, data: dict[str, Any]) -> None:
        row = self._row(target)
        self.phases[target] = escape(phase_text(data))
        self.display.update(row, state=self._state(target), bar=text_bar(fraction(data)))

    def resources(self, target: str, data: dict[str, Any]) -> None:
        row = self._row(target)
        self.counts[target] = escape(counts_text(data))
        self.display.update(row, state=self._state(target))

    def _state(self, target: str) -> str:
        parts = [self.phases.get(target) or "running", self.counts.get(target)]
        return " · ".join(part for part in parts if part)

    def finish(self, result: TargetResult) -> None:
        row = self.rows.get(result.target)
        if row is not None:
            style = STATUS_STYLES.get(result.status, "red")
            code = "-" if result.exit_code is None else str(result.exit_code)
            self.display.update(row, completed=1, state=f"[{style}]{result.status}[/] exit {code}", bar="")

    def stop(self) -> None:
        if self.started:
            self.display.stop()

