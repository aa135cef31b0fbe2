"""The terminal views fed exact event sequences: a plan's step tree, progress per target, plan exec assembly.

The events have the shapes of the plans contract (`step`, `stepResult`, `message`,
`planResult`) and of the progress detectors (`progress`, `resources`), in the order a real
`bolt plan run` of tests/realbolt/project's plans produces them.
"""

from __future__ import annotations

import io

from rich.console import Console

from boltdeck.client import Event, Execution, TargetResult
from boltdeck.client.follow import ExecAssembly
from boltdeck.clitool.boards import LineBoard, LiveBoard, counts_text, fraction, phase_text, text_bar
from boltdeck.clitool.views import LiveView, Terminal

LOOP = 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done'
REFUSED = "Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1"


class Log:
    """Events with increasing seq numbers, as one execution's stream hands them out."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, event_type: str, target: str | None = None, /, **data) -> "Log":
        seq = len(self.events) + 1
        self.events.append(Event.from_json({"seq": seq, "type": event_type, "executionId": "e1", "target": target,
                                            "data": data}))  # fmt: skip
        return self

    def start(self, targets: list[str], expert: bool = False) -> "Log":
        return self.add("start", kind="plan", targets=targets, expandedTargets=targets, expertMode=expert)

    def step(self, id: str, kind: str, what: str, targets=(), parent: str | None = None) -> "Log":
        data = {"id": id, "parent": parent, "phase": "start", "kind": kind, "object": what, "targets": list(targets)}
        return self.add("step", **data)

    def finish(self, id: str, kind: str, what: str, status: str, failures=0, seconds=None) -> "Log":
        data = {"id": id, "phase": "finish", "kind": kind, "object": what, "status": status, "failures": failures,
                "durationSeconds": seconds}  # fmt: skip
        return self.add("step", **data)

    def step_result(self, step: str, target: str, status: str, exit_code=None, stdout="", error=None) -> "Log":
        data = {"step": step, "target": target, "status": status, "action": "command", "exitCode": exit_code,
                "stdout": stdout, "stderr": "", "value": None, "error": error}  # fmt: skip
        return self.add("stepResult", target, **data)


def steps_run(expert: bool = False) -> Log:
    """demo::steps on localhost with failing=refused: a slow command, a task, a check failing on `refused`."""
    log = Log().start(["localhost", "refused"], expert)
    log.step("s1", "plan", "demo::steps").add("message", text="starting with world", step="s1")
    log.step("s2", "command", LOOP, ["localhost"], parent="s1")
    if expert:
        for n in (1, 2, 3):
            log.add("stdout", "localhost", text=f"line {n}\n")
    log.step_result("s2", "localhost", "success", 0, "line 1\nline 2\nline 3\n")
    log.finish("s2", "command", LOOP, "success", 0, 1.52)
    log.step("s3", "task", "demo::hello", ["localhost"], parent="s1")
    log.step_result("s3", "localhost", "success", None, '{"greeting": "hello world"}\n')
    log.finish("s3", "task", "demo::hello", "success", 0, 3.03)
    log.step("s4", "command", "echo checked", ["localhost", "refused"], parent="s1")
    log.step_result("s4", "localhost", "success", 0, "checked\n")
    log.step_result("s4", "refused", "failure", error={"kind": "puppetlabs.tasks/connect-error", "message": REFUSED})
    log.finish("s4", "command", "echo checked", "failure", 1, 0.14)
    log.add("message", text="done", step="s1")
    log.finish("s1", "plan", "demo::steps", "success", None, 4.71)
    returned = [{"target": "localhost", "status": "success"}, {"target": "refused", "status": "failure"}]
    log.add("planResult", value=returned, error=None)
    log.add("result", "localhost", target="localhost", status="success", exitCode=0, stdout="checked\n")
    log.add("result", "refused", target="refused", status="failure", error={"message": REFUSED})
    return log.add("complete", status="failed", exitCode=0, durationMs=4900)


def _show(events: list[Event], capsys) -> tuple[list[str], list[str]]:
    view = LiveView(Terminal(no_color=True))
    for event in events:
        view.event(event)
    out, err = capsys.readouterr()
    return out.splitlines(), err.splitlines()


def test_views_plan_tree_nests_steps_results_and_messages_and_ends_with_the_return_value(capsys):
    out, _ = _show(steps_run().events, capsys)
    assert out == [
        "Starting: plan demo::steps",
        "  starting with world",
        f"  Starting: command '{LOOP}' on localhost",
        "    localhost: success, exit 0",
        "      [localhost] out: line 1",
        "      [localhost] out: line 2",
        "      [localhost] out: line 3",
        f"  Finished: command '{LOOP}': success in 1.52 s",
        "  Starting: task demo::hello on localhost",
        "    localhost: success",
        '      [localhost] out: {"greeting": "hello world"}',
        "  Finished: task demo::hello: success in 3.03 s",
        "  Starting: command 'echo checked' on localhost, refused",
        "    localhost: success, exit 0",
        "      [localhost] out: checked",
        f"    refused: failure: {REFUSED}",
        "  Finished: command 'echo checked': failure (1 failure) in 0.14 s",
        "  done",
        "Finished: plan demo::steps: success in 4.71 s",
        "Returned:",
        "[",
        "  {",
        '    "target": "localhost",',
        '    "status": "success"',
        "  },",
        "  {",
        '    "target": "refused",',
        '    "status": "failure"',
        "  }",
        "]",
    ], "the final results repeat the last step's: they print no output of their own"


def test_views_plan_tree_in_expert_mode_puts_live_lines_under_their_step_and_not_twice(capsys):
    out, _ = _show(steps_run(expert=True).events, capsys)
    assert out[2:8] == [
        f"  Starting: command '{LOOP}' on localhost",
        "    [localhost] out: line 1",
        "    [localhost] out: line 2",
        "    [localhost] out: line 3",
        "    localhost: success, exit 0",
        f"  Finished: command '{LOOP}': success in 1.52 s",
    ]
    assert sum("out: checked" in line for line in out) == 0, "the step result's output came live, or not at all"


def test_views_plan_tree_indents_a_sub_plan_and_names_the_step_of_an_interleaved_result(capsys):
    log = Log().start(["localhost", "local2"], expert=True)
    log.step("s1", "plan", "demo::outer").step("s2", "plan", "demo::inner", parent="s1")
    log.step("s3", "command", "echo inner", ["localhost", "local2"], parent="s2")
    log.add("stdout", "local2", text="inner\n")
    log.step("s4", "command", "echo par", ["localhost"], parent="s2")  # parallelize: two steps open at once
    log.step_result("s3", "local2", "success", 0, "inner\n")
    log.add("stdout", "local2", text="late\n")
    log.finish("s3", "command", "echo inner", "success", 0, 0.03).finish("s4", "command", "echo par", "success")
    log.finish("s2", "plan", "demo::inner", "success", None, 0.04).add("message", text="back", step="s1")
    log.finish("s1", "plan", "demo::outer", "success", None, 0.07).add("planResult", value="finished", error=None)
    out, _ = _show(log.events, capsys)
    assert out == [
        "Starting: plan demo::outer",
        "  Starting: plan demo::inner",
        "    Starting: command 'echo inner' on localhost, local2",
        "      [local2] out: inner",
        "    Starting: command 'echo par' on localhost",
        "      local2: success, exit 0 (command 'echo inner')",
        "      [local2] out: late",  # under the open step that runs on local2, not the last one started
        "    Finished: command 'echo inner': success in 0.03 s",
        "    Finished: command 'echo par': success",
        "  Finished: plan demo::inner: success in 0.04 s",
        "  back",
        "Finished: plan demo::outer: success in 0.07 s",
        "Returned:",
        '"finished"',
    ]


def test_views_plan_error_shows_its_message_kind_and_details(capsys):
    log = Log().start([]).step("s1", "plan", "demo::fails").finish("s1", "plan", "demo::fails", "failure", None, 0.0)
    error = {"kind": "demo/custom", "issueCode": None, "message": "boom", "details": {"why": "because"}}
    out, _ = _show(log.add("planResult", value=None, error=error).events, capsys)
    assert out == [
        "Starting: plan demo::fails",
        "Finished: plan demo::fails: failure in 0.00 s",
        "Plan failed: boom (demo/custom)",
        '  {"why": "because"}',
    ]


def test_views_plan_summary_lists_only_returned_results_and_no_target_count_without_them(capsys):
    view = LiveView(Terminal(no_color=True))
    view.event(Log().start(["localhost"]).events[0])
    capsys.readouterr()
    plain = {"id": "e1", "kind": "plan", "status": "success", "durationMs": 1200, "summary": {}, "results": []}
    view.end(Execution.from_json(plain))
    assert capsys.readouterr().out.splitlines() == ["success in 1.2 s (execution e1)"]
    returned = {**plain, "status": "failed", "summary": {"succeeded": ["localhost"], "failed": ["refused"]},
                "results": [{"target": "localhost", "status": "success", "exitCode": 0},
                            {"target": "refused", "status": "failure", "error": {"message": REFUSED}}]}  # fmt: skip
    view.end(Execution.from_json(returned))
    table = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [row[:3] for row in table[1:3]] == [["localhost", "success", "0"], ["refused", "failure", "-"]]
    assert table[-1][:5] == ["failed", "in", "1.2", "s:", "1"]


def test_views_progress_without_expert_mode_is_one_line_per_change_per_target(capsys):
    log = Log().add("start", kind="command", targets=["a", "b"], expandedTargets=["a", "b"], expertMode=False)
    for percent in (10, 10, 10, 40):  # a repeat changes nothing on the screen
        log.add("progress", "a", tool="apt", phase="unpacking", item="curl", percent=percent)
    log.add("progress", "b", tool="dnf", phase="installing", current=2, total=5)
    log.add("progress", None, phase="targets", percent=50, completed=1, total=2)  # overall: the rows say it
    counts = {"changed": 2, "failed": 1, "noop": 0, "skipped": 0}
    resources = [{"resource": "File[/tmp/x]", "status": "changed", "message": "created"}]
    log.add("resources", "b", resources=resources, counts=counts, applySeconds=None)
    log.add("resources", "b", resources=resources, counts=counts, applySeconds=None)
    log.add("resources", "b", resources=[], counts=counts, applySeconds=1.5)
    _, err = _show(log.events, capsys)
    assert err == [
        "[a] apt: unpacking curl 10%",
        "[a] apt: unpacking curl 40%",
        "[b] dnf: installing 2/5",
        "[b] puppet resources: changed 2, failed 1, noop 0, skipped 0",
        "[b] puppet resources: changed 2, failed 1, noop 0, skipped 0 (applied in 1.5 s)",
    ]


def test_views_progress_is_not_shown_in_expert_mode_where_the_lines_themselves_are(capsys):
    log = Log().add("start", kind="command", targets=["a"], expandedTargets=["a"], expertMode=True)
    log.add("progress", "a", tool="apt", phase="unpacking", percent=10).add("stdout", "a", text="Unpacking\n")
    out, err = _show(log.events, capsys)
    assert (out, err) == (["[a] out: Unpacking"], [])


def test_views_progress_texts_and_bars_say_only_what_the_tool_said():
    assert phase_text({"tool": "zypper", "phase": "installing", "item": "vim", "current": 1, "total": 4}) == (
        "zypper: installing vim 1/4")  # fmt: skip
    assert phase_text({"tool": "generic", "phase": "in progress", "percent": 33.4}) == "generic: in progress 33%"
    assert fraction({"phase": "x"}) is None and text_bar(None) == ""
    assert fraction({"current": 1, "total": 4}) == 0.25 and fraction({"percent": 140}) == 1.0
    assert text_bar(0.25, 8) == "██░░░░░░" and text_bar(1.0, 4) == "████"
    assert counts_text({"changed": 1, "failed": 0, "noop": 3, "skipped": 0, "applySeconds": 0.25}) == (
        "changed 1, failed 0, noop 3, skipped 0 (applied in 0.25 s)")  # fmt: skip
    written: list[str] = []
    board = LineBoard(written.append)
    board.phase("t", {"phase": ""})  # nothing to say: no line
    assert written == []


def test_views_live_board_draws_a_row_once_a_plans_target_reports_progress():
    screen = io.StringIO()
    board = LiveBoard(Console(file=screen, force_terminal=True, color_system=None, width=120), [])
    assert not board.started, "a plan's board stays off the screen until a target has something to show"
    board.phase("web[1]", {"tool": "apt", "phase": "installing", "item": "lib[x]", "percent": 60})
    board.resources("web[1]", {"counts": {"changed": 2, "failed": 1}, "applySeconds": None})
    board.display.refresh()
    drawn = screen.getvalue()
    assert "web[1]" in drawn and "apt: installing lib[x] 60%" in drawn, "names with [ are text, not markup"
    assert "changed 2, failed 1, noop 0, skipped 0" in drawn and "█" * 12 + "░" * 8 in drawn
    board.finish(TargetResult.from_json({"target": "web[1]", "status": "failure", "exitCode": 2}))
    board.display.refresh()
    assert "failure exit 2" in screen.getvalue()
    board.stop()


def test_views_exec_assembly_of_a_plan_gathers_step_output_messages_and_the_return_value():
    chunks = []
    assembly = ExecAssembly("e1", expert=False)
    for event in steps_run().events:
        chunks += assembly.feed(event)
    assert [(c.type, c.target, c.output) for c in chunks[:4]] == [
        ("message", None, "starting with world\n"),
        ("stdout", "localhost", "line 1\nline 2\nline 3\n"),
        ("stdout", "localhost", '{"greeting": "hello world"}\n'),
        ("stdout", "localhost", "checked\n"),
    ]
    assert [c.type for c in chunks[4:]] == ["message", "done"], "the final results add no chunk"
    done = chunks[-1]
    assert (done.status, done.exit_code, done.value[1]["target"]) == ("failed", 0, "refused")
    result = assembly.result()
    assert result.output == (
        "[localhost] line 1\n[localhost] line 2\n[localhost] line 3\n"
        '[localhost] {"greeting": "hello world"}\n[localhost] checked\n'
    )
    assert [r.target for r in result.results] == ["localhost", "refused"] and result.error is None
    assert result.exit_code == 0, "a plan's exit code is Bolt's, not its first target's"
