"""What the client commands print: live output like `bolt --stream`, a plan's steps, progress, tables, JSON lines.

Command output goes to stdout exactly as it arrived, prefixed `[target] out: ` (`err: ` for
stderr), so it can be piped; a plan's step tree goes there too, the output of each step
indented under it. Bolt's own messages, the command line and the progress display go to
stderr. Colours only on a terminal, never with --no-color or NO_COLOR.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Iterable

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..client import Event, Execution, TargetResult
from .boards import LineBoard, LiveBoard, counts_text
from .steps import Line, StepTree
from .styles import COLORS, RESET, STATUS_STYLES


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

    def paint(self, text: str, style: str | None) -> str:
        return f"{COLORS[style]}{text}{RESET}" if self.color and style in COLORS else text

    def line(self, target: str | None, stream: str, text: str, indent: str = "") -> None:
        """One line of a target's output on stdout, as `bolt --stream` prints it."""
        label = self.paint("err:", "err") if stream == "stderr" else "out:"
        sys.stdout.write(f"{indent}{self.paint(f'[{target}]', 'target')} {label} {text}")
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()

    def tree_line(self, line: Line) -> None:
        """One line of a plan's step tree on stdout: a step, a result, a message, or a target's output."""
        if line.stream is not None:
            self.line(line.target, line.stream, line.text, line.indent)
            return
        sys.stdout.write(f"{line.indent}{self.paint(line.text, line.style)}\n")
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
    """Live lines (expert mode) or progress per target (without), a plan's step tree, then a summary table."""

    def __init__(self, terminal: Terminal):
        self.terminal = terminal
        self.targets: list[str] = []
        self.expert = False
        self.plan = False
        self.tree = StepTree()
        self.board: LiveBoard | LineBoard | None = None

    def event(self, event: Event) -> None:
        handler = getattr(self, f"_on_{_snake(event.type)}", None)
        if handler is not None:
            handler(event)

    def _on_start(self, event: Event) -> None:
        self.targets = list(event.data.get("expandedTargets") or event.data.get("targets") or [])
        self.expert = bool(event.data.get("expertMode"))
        self.plan = event.data.get("kind") == "plan"
        if not self.expert:  # a plan's targets show up with their steps, a command's all at once
            self.board = (
                LiveBoard(self.terminal.err, [] if self.plan else self.targets)
                if self.terminal.err.is_terminal
                else LineBoard(self.terminal.note)
            )

    def _on_command(self, event: Event) -> None:
        self.terminal.note(f"$ {event.data.get('argv', '')}")

    def _on_stdout(self, event: Event) -> None:
        for line in _lines(event.data.get("text", "")):
            if self.plan:
                self.terminal.tree_line(self.tree.output(event.target, event.type, line))
            else:
                self.terminal.line(event.target, event.type, line)

    _on_stderr = _on_stdout

    def _on_log(self, event: Event) -> None:
        for line in _lines(event.data.get("text", "")):
            self.terminal.note(f"bolt: {line.rstrip()}")

    def _on_error(self, event: Event) -> None:
        self.terminal.note(f"error: {event.data.get('message') or event.data}", "error")

    def _on_progress(self, event: Event) -> None:
        if self.board is not None and event.target:  # the overall "N of M targets" shows in the rows
            self.board.phase(event.target, event.data)

    def _on_resources(self, event: Event) -> None:
        if self.board is not None and event.target:
            self.board.resources(event.target, event.data)

    def _on_step(self, event: Event) -> None:
        self._show(self.tree.step(event.data))

    def _on_step_result(self, event: Event) -> None:
        self._show(self.tree.result(event.data, with_output=not self.expert))

    def _on_message(self, event: Event) -> None:
        self._show(self.tree.message(event.data))

    def _on_plan_result(self, event: Event) -> None:
        self._show(self.tree.plan_result(event.data))

    def _show(self, lines: list[Line]) -> None:
        for line in lines:
            self.terminal.tree_line(line)

    def _on_result(self, event: Event) -> None:
        result = TargetResult.from_json(event.data)
        if self.board is not None:
            self.board.finish(result)
        if not self.expert and not self.plan:  # no live lines came: the result holds what the command printed
            print_output(self.terminal, result)

    def _on_complete(self, event: Event) -> None:
        self.pause()

    def pause(self) -> None:
        """Take the progress display off the screen (before a question, or at the end)."""
        if self.board is not None:
            self.board.stop()
            self.board = None

    def end(self, execution: Execution) -> None:
        self.pause()
        if self.plan:  # only a returned ResultSet gives per-target results: the steps showed the rest
            targets = [result.target for result in execution.results]
        else:
            targets = self.targets or expanded_targets(execution)
        if targets:
            self.terminal.out.print(summary_table(execution, targets))
        self.terminal.out.print(summary_line(execution), highlight=False)


def print_output(terminal: Terminal, result: TargetResult) -> None:
    """What a target's command printed (its result), stdout then stderr, line by line."""
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        for line in _lines(text):
            terminal.line(result.target, stream, line)


def expanded_targets(execution: Execution) -> list[str]:
    """The targets the execution ran on (groups expanded): those with a result, then those without."""
    names = [result.target for result in execution.results]
    return names + [name for name in (execution.summary or {}).get("noResult") or [] if name not in names]


SUMMARY_COLUMNS = ("target", "status", "exit", "message", "resources")


def summary_table(execution: Execution, targets: Iterable[str]) -> Table:
    """One row per target: its status, the command's exit code, Bolt's error message and Puppet's counts if any."""
    results = {result.target: result for result in execution.results}
    rows = [_summary_row(name, results.get(name)) for name in targets]
    shown = [i for i in range(len(SUMMARY_COLUMNS)) if i < 3 or any(row[i] for row in rows)]  # no empty column
    table = Table(*(SUMMARY_COLUMNS[i] for i in shown), box=None, pad_edge=False)
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def _summary_row(name: str, result: TargetResult | None) -> tuple:
    if result is None:
        return Text(name), "[yellow]no result[/]", "-", Text(""), Text("")
    message = (result.error or {}).get("message", "") if result.status != "success" else ""
    style = STATUS_STYLES.get(result.status, "red")
    resources = counts_text(result.puppet) if result.puppet else ""
    return Text(name), f"[{style}]{result.status}[/]", _code(result.exit_code), Text(message), Text(resources)


def summary_line(execution: Execution) -> str:
    summary = execution.summary or {}
    counts = ", ".join(
        f"{len(summary.get(key) or [])} {label}"
        for key, label in (("succeeded", "succeeded"), ("failed", "failed"), ("noResult", "without result"))
        if summary.get(key)
    )
    seconds = f" in {execution.duration_ms / 1000:.1f} s" if execution.duration_ms is not None else ""
    style = STATUS_STYLES.get(execution.status, "red")
    if not counts and execution.kind != "plan":  # a plan without a returned ResultSet has no per-target results
        counts = "no targets"
    return f"[{style}]{execution.status}[/]{seconds}{': ' if counts else ''}{counts} (execution {execution.id})"


def executions_table(items: list[Execution]) -> Table:
    table = Table("id", "kind", "status", "targets", "created", "by", box=None, pad_edge=False)
    for item in items:
        style = STATUS_STYLES.get(item.status, "")
        status = f"[{style}]{item.status}[/]" if style else item.status
        cells = (",".join(item.targets), item.created_at or "", item.created_by or "")
        table.add_row(item.id, item.kind, status, *(Text(cell) for cell in cells))
    return table


def plans_table(plans: list[dict[str, Any]]) -> Table:
    table = Table("plan", "description", box=None, pad_edge=False)
    for plan in plans:
        table.add_row(Text(plan["name"]), Text(plan.get("description") or ""))
    return table


def plan_view(plan: dict[str, Any]) -> Group:
    """A plan's name, its summary and description (once when they are the same), its parameters."""
    texts = dict.fromkeys(filter(None, (plan.get("summary"), plan.get("description"))))
    return Group(Text(plan["name"], style="bold"), *(Text(text) for text in texts), plan_parameters_table(plan))


def plan_parameters_table(plan: dict[str, Any]) -> Table:
    """A plan's parameters: type (`(-t)` marks the one `--targets` fills), required or default, description."""
    table = Table("parameter", "type", "required", "default", "description", box=None, pad_edge=False)
    filled = targets_parameter(plan)
    for parameter in plan.get("parameters") or []:
        kind = (parameter.get("type") or "Any") + (" (-t)" if parameter["name"] == filled else "")
        required = "yes" if parameter.get("required") else "no"
        default = parameter.get("default", "")
        default = default if isinstance(default, str) else json.dumps(default)
        cells = (parameter["name"], kind, required, default, parameter.get("description") or "")
        table.add_row(*(Text(cell) for cell in cells))
    return table


def targets_parameter(plan: dict[str, Any]) -> str | None:
    """The parameter the server fills from `targets`: the TargetSpec one named `targets`, else the only one."""
    names = [p["name"] for p in plan.get("parameters") or [] if p.get("targetSpec")]
    return "targets" if "targets" in names else (names[0] if len(names) == 1 else None)


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


def _snake(name: str) -> str:
    """`stepResult` -> `step_result`: an event type as a method name."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _lines(text: str) -> list[str]:
    """Lines split at \\n only, each keeping its newline (a last one without)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _code(exit_code: int | None) -> str:
    return "-" if exit_code is None else str(exit_code)
