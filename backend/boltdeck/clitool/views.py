"""What the client commands print: live output like `bolt --stream`, progress, tables, JSON lines.

Command output goes to stdout exactly as it arrived, prefixed `[target] out: ` (`err: ` for
stderr), so it can be piped; Bolt's own messages, the command line and the progress display go
to stderr. Colours only on a terminal, never with --no-color or NO_COLOR.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..client import Event, Execution, TargetResult

RESET = "\x1b[0m"
COLORS = {"target": "\x1b[36m", "err": "\x1b[31m", "dim": "\x1b[2m", "error": "\x1b[1;31m"}
STATUS_STYLES = {"success": "green", "partial": "yellow", "failed": "red", "failure": "red", "cancelled": "yellow"}


class Terminal:
    """Where the commands write, and whether with colours."""

    def __init__(self, no_color: bool):
        self.color = (
            not no_color and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb" and sys.stdout.isatty()
        )
        system = "auto" if self.color else None
        # Not on a terminal, tables keep their full width: ids and messages are never cut for a pipe.
        width = None if sys.stdout.isatty() else 10_000
        self.out = Console(color_system=system, highlight=False, width=width)
        self.err = Console(stderr=True, color_system=system, highlight=False)

    def paint(self, text: str, style: str) -> str:
        return f"{COLORS[style]}{text}{RESET}" if self.color else text

    def line(self, target: str | None, stream: str, text: str) -> None:
        """One line of a target's output on stdout, as `bolt --stream` prints it."""
        label = self.paint("err:", "err") if stream == "stderr" else "out:"
        sys.stdout.write(f"{self.paint(f'[{target}]', 'target')} {label} {text}")
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()

    def note(self, text: str, style: str = "dim") -> None:
        """A message for the person, not the pipe: stderr."""
        sys.stderr.write(self.paint(text, style) + "\n")
        sys.stderr.flush()


class JsonView:
    """`--json`: each event as the API's JSON object, one per line; nothing else on stdout."""

    def event(self, event: Event) -> None:
        sys.stdout.write(json.dumps(event.raw, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def pause(self) -> None:
        pass

    def end(self, execution: Execution) -> None:
        pass


class LiveView:
    """Live lines (expert mode) or a progress line per target (without), then a summary table."""

    def __init__(self, terminal: Terminal):
        self.terminal = terminal
        self.targets: list[str] = []
        self.expert = False
        self.progress: TargetProgress | None = None

    def event(self, event: Event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def _on_start(self, event: Event) -> None:
        self.targets = list(event.data.get("expandedTargets") or event.data.get("targets") or [])
        self.expert = bool(event.data.get("expertMode"))
        if not self.expert and self.terminal.err.is_terminal:
            self.progress = TargetProgress(self.terminal, self.targets)

    def _on_command(self, event: Event) -> None:
        self.terminal.note(f"$ {event.data.get('argv', '')}")

    def _on_stdout(self, event: Event) -> None:
        for line in _lines(event.data.get("text", "")):
            self.terminal.line(event.target, event.type, line)

    _on_stderr = _on_stdout

    def _on_log(self, event: Event) -> None:
        for line in _lines(event.data.get("text", "")):
            self.terminal.note(f"bolt: {line.rstrip()}")

    def _on_error(self, event: Event) -> None:
        self.terminal.note(f"error: {event.data.get('message') or event.data}", "error")

    def _on_result(self, event: Event) -> None:
        result = TargetResult.from_json(event.data)
        if self.progress is not None:
            self.progress.finish(result)
        if not self.expert:  # no live lines came: the result holds what the command printed
            print_output(self.terminal, result)

    def _on_complete(self, event: Event) -> None:
        self.pause()

    def pause(self) -> None:
        """Take the progress display off the screen (before a question, or at the end)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def end(self, execution: Execution) -> None:
        self.pause()
        self.terminal.out.print(summary_table(execution, self.targets or expanded_targets(execution)))
        self.terminal.out.print(summary_line(execution), highlight=False)


class TargetProgress:
    """rich's live display with one line per target: a spinner while it runs, its status once done."""

    def __init__(self, terminal: Terminal, targets: list[str]):
        self.display = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.description}", markup=False),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=terminal.err,
            transient=True,  # the summary table replaces it
            # what is written meanwhile is printed above the display; a piped stdout is left as it is
            redirect_stdout=sys.stdout.isatty(),
            redirect_stderr=True,
        )
        self.tasks = {name: self.display.add_task(name, total=1, state="running") for name in targets}
        self.display.start()

    def finish(self, result: TargetResult) -> None:
        task = self.tasks.get(result.target)
        if task is not None:
            state = f"[{STATUS_STYLES.get(result.status, 'red')}]{result.status}[/] exit {_code(result.exit_code)}"
            self.display.update(task, completed=1, state=state)

    def stop(self) -> None:
        self.display.stop()


def print_output(terminal: Terminal, result: TargetResult) -> None:
    """What a target's command printed (its result), stdout then stderr, line by line."""
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        for line in _lines(text):
            terminal.line(result.target, stream, line)


def expanded_targets(execution: Execution) -> list[str]:
    """The targets the execution ran on (groups expanded): those with a result, then those without."""
    names = [result.target for result in execution.results]
    return names + [name for name in (execution.summary or {}).get("noResult") or [] if name not in names]


def summary_table(execution: Execution, targets: Iterable[str]) -> Table:
    """One row per target: its status, the command's exit code, and Bolt's error message if any."""
    results = {result.target: result for result in execution.results}
    rows = [_summary_row(name, results.get(name)) for name in targets]
    with_messages = any(row[-1] for row in rows)
    table = Table("target", "status", "exit", *(["message"] if with_messages else []), box=None, pad_edge=False)
    for row in rows:
        table.add_row(*(row if with_messages else row[:-1]))
    return table


def _summary_row(name: str, result: TargetResult | None) -> tuple:
    if result is None:
        return Text(name), "[yellow]no result[/]", "-", Text("")
    message = (result.error or {}).get("message", "") if result.status != "success" else ""
    style = STATUS_STYLES.get(result.status, "red")
    return Text(name), f"[{style}]{result.status}[/]", _code(result.exit_code), Text(message)


def summary_line(execution: Execution) -> str:
    summary = execution.summary or {}
    counts = ", ".join(
        f"{len(summary.get(key) or [])} {label}"
        for key, label in (("succeeded", "succeeded"), ("failed", "failed"), ("noResult", "without result"))
        if summary.get(key)
    )
    seconds = f" in {execution.duration_ms / 1000:.1f} s" if execution.duration_ms is not None else ""
    style = STATUS_STYLES.get(execution.status, "red")
    return f"[{style}]{execution.status}[/]{seconds}: {counts or 'no targets'} (execution {execution.id})"


def executions_table(items: list[Execution]) -> Table:
    table = Table("id", "kind", "status", "targets", "created", "by", box=None, pad_edge=False)
    for item in items:
        style = STATUS_STYLES.get(item.status, "")
        status = f"[{style}]{item.status}[/]" if style else item.status
        cells = (",".join(item.targets), item.created_at or "", item.created_by or "")
        table.add_row(item.id, item.kind, status, *(Text(cell) for cell in cells))
    return table


def execution_fields(execution: Execution) -> Table:
    """The fields of one execution, a name and a value per row."""
    table = Table(show_header=False, box=None, pad_edge=False)
    raw: dict[str, Any] = execution.raw
    for name in ("id", "kind", "status", "targets", "createdBy", "createdAt", "startedAt", "finishedAt",
                 "durationMs", "exitCode", "expertMode", "commandLine", "parentId", "rerunScope"):  # fmt: skip
        value = raw.get(name)
        if value not in (None, ""):
            table.add_row(name, Text(",".join(value) if isinstance(value, list) else str(value)))
    return table


def _lines(text: str) -> list[str]:
    """Lines split at \\n only, each keeping its newline (a last one without)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _code(exit_code: int | None) -> str:
    return "-" if exit_code is None else str(exit_code)
