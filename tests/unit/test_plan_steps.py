"""A plan's step events from real `bolt plan run --stream --log-level info` captures (issue 17).

Each test feeds a tests/bolt_samples/plan_stream_* stderr to `PlanSteps` line by line, as the
service does, and reads the plan's outcome from the stdout's last line that is not a target's
output line.
"""

from __future__ import annotations

from typing import Any

from boltdeck.bolt.parser import classify_stdout
from boltdeck.bolt.plan_steps import PlanSteps, plan_outcome, results_of_outcome

from ..conftest import BOLT_SAMPLES

SLOW = 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done'


def _lines(name: str, stream: str) -> list[str]:
    return (BOLT_SAMPLES / f"plan_stream_{name}.{stream}").read_text().split("\n")


def _exit_code(name: str) -> int:
    header = (BOLT_SAMPLES / f"plan_stream_{name}.txt").read_text().split("\n")[1]
    return int(header.removeprefix("### exit code: "))


def _feed(lines: list[str], failed: bool) -> list[tuple[str, dict[str, Any], str | None]]:
    steps = PlanSteps()
    events = [event for line in lines for event in steps.feed_stderr(line)]
    return events + steps.close(failed)


def _brief(events) -> list[tuple]:
    """Each event in short: step start/finish, a step's result, a message."""
    shown = []
    for kind, data, target in events:
        if kind == "step" and data["phase"] == "start":
            shown.append(("start", data["id"], data["parent"], data["kind"], data["object"], data["targets"]))
        elif kind == "step":
            shown.append(("finish", data["id"], data["status"], data["failures"], data["durationSeconds"]))
        elif kind == "stepResult":
            assert target == data["target"]
            shown.append(("result", data["step"], target, data["status"]))
        else:
            assert (kind, target) == ("message", None)
            shown.append(("message", data["step"], data["text"]))
    return shown


def _final_line(name: str) -> str | None:
    """The plan's outcome line as the service finds it: the last stdout line that is not a stream line."""
    last = None
    for line in _lines(name, "stdout"):
        if line and classify_stdout(line).kind != "stream":
            last = line
    return last


def test_plan_steps_steps_messages_and_a_connect_error():
    """`Running ...` before `Starting:` is no step; a result with object null (connect error) is its step's."""
    events = _feed(_lines("steps", "stderr"), failed=True)
    assert _brief(events) == [
        ("start", "s1", None, "plan", "demo::steps", []),
        ("message", "s1", "starting with 1"),
        ("start", "s2", "s1", "command", SLOW, ["localhost"]),
        ("result", "s2", "localhost", "success"),
        ("finish", "s2", "success", 0, 1.52),
        ("start", "s3", "s1", "task", "demo::hello", ["localhost"]),
        ("result", "s3", "localhost", "success"),
        ("finish", "s3", "success", 0, 3.03),
        ("start", "s4", "s1", "command", "echo checked", ["localhost", "refused"]),
        ("result", "s4", "localhost", "success"),
        ("result", "s4", "refused", "failure"),
        ("finish", "s4", "failure", 1, 0.14),
        ("message", "s1", "done"),
        ("finish", "s1", "failure", None, 4.71),
    ]
    refused = events[10][1]
    assert refused["action"] == "command" and refused["exitCode"] is None and refused["stdout"] is None
    error = refused["error"]
    assert (error["kind"], error["issueCode"]) == ("puppetlabs.tasks/connect-error", "CONNECT_ERROR")
    assert events[6][1]["stdout"].endswith('{"greeting": "hello 1", "n": 3}\n')  # the task's whole output
    assert events[0][1] == {
        "id": "s1", "parent": None, "phase": "start", "kind": "plan", "object": "demo::steps", "targets": [],
    }  # fmt: skip
    assert events[4][1] == {
        "id": "s2", "phase": "finish", "kind": "command", "object": SLOW,
        "status": "success", "failures": 0, "durationSeconds": 1.52,
    }  # fmt: skip


def test_plan_steps_sub_plan_is_the_parent_of_its_steps():
    """The Running lines of `echo outer` come before inner's Finished lines: they change nothing."""
    assert _brief(_feed(_lines("outer", "stderr"), failed=False)) == [
        ("start", "s1", None, "plan", "demo::outer", []),
        ("start", "s2", "s1", "plan", "demo::inner", []),
        ("start", "s3", "s2", "command", "echo inner", ["localhost", "local2"]),
        ("result", "s3", "local2", "success"),
        ("result", "s3", "localhost", "success"),
        ("finish", "s3", "success", 0, 0.03),
        ("finish", "s2", "success", None, 0.03),
        ("start", "s4", "s1", "command", "echo outer", ["localhost", "local2"]),
        ("result", "s4", "localhost", "success"),
        ("result", "s4", "local2", "success"),
        ("finish", "s4", "success", 0, 0.03),
        ("finish", "s1", "success", None, 0.07),
    ]


def test_plan_steps_caught_failures_and_identical_parallel_steps():
    """`parallelize` starts two `echo par` steps; each result goes to the step of its target, each
    Finished closes one. The plan caught `exit 3` and returned: its own status is the run's."""
    events = _feed(_lines("sub", "stderr"), failed=False)
    assert _brief(events) == [
        ("start", "s1", None, "plan", "demo::sub", []),
        ("start", "s2", "s1", "plan", "demo::inner", []),
        ("start", "s3", "s2", "command", "echo inner", ["localhost", "other"]),
        ("result", "s3", "other", "success"),
        ("result", "s3", "localhost", "success"),
        ("finish", "s3", "success", 0, 0.03),
        ("finish", "s2", "success", None, 0.04),
        ("start", "s4", "s1", "command", "exit 3", ["localhost", "other"]),
        ("result", "s4", "localhost", "failure"),
        ("result", "s4", "other", "failure"),
        ("finish", "s4", "failure", 2, 0.03),
        ("start", "s5", "s1", "command", "echo par", ["localhost"]),
        ("start", "s6", "s1", "command", "echo par", ["other"]),
        ("result", "s6", "other", "success"),
        ("result", "s5", "localhost", "success"),
        ("finish", "s5", "success", 0, 0.02),
        ("finish", "s6", "success", 0, 0.02),
        ("finish", "s1", "success", None, 1.6),
    ]
    assert events[8][1]["exitCode"] == 3
    assert _brief(_feed(_lines("sub", "stderr"), failed=True))[-1] == ("finish", "s1", "failure", None, 1.6)


def test_plan_steps_many_targets_own_descriptions_multiline_messages_parallel_plans():
    """Past five targets Bolt names only their number; `Say hi` is the plan's own description; a
    message's lines are messages, its log copy nothing; parallel copies of one plan are siblings."""
    assert _brief(_feed(_lines("parallel", "stderr"), failed=False)) == [
        ("start", "s1", None, "plan", "demo::multi", []),
        ("message", "s1", "line one"),
        ("message", "s1", "line two"),
        ("message", "s1", "{"),
        ("message", "s1", '  "a": 1'),
        ("message", "s1", "}"),
        ("start", "s2", "s1", "Say", "hi", ["t1"]),
        ("result", "s2", "t1", "success"),
        ("finish", "s2", "success", 0, 0.01),
        ("start", "s3", "s1", "command", "echo many", []),
        *[("result", "s3", target, "success") for target in ("t3", "t4", "t2", "t5", "t6", "t1")],
        ("finish", "s3", "success", 0, 0.09),
        ("start", "s4", "s1", "plan", "demo::in2", []),
        ("message", "s4", "in2 on t1"),
        ("start", "s5", "s1", "plan", "demo::in2", []),
        ("message", "s5", "in2 on t2"),
        # Bolt's log does not tell which copy runs which step: the latest one started gets both.
        ("start", "s6", "s5", "command", "echo in2", ["t1"]),
        ("start", "s7", "s5", "command", "echo in2", ["t2"]),
        ("result", "s6", "t1", "success"),
        ("result", "s7", "t2", "success"),
        ("finish", "s6", "success", 0, 0.02),
        ("finish", "s7", "success", 0, 0.02),
        ("finish", "s5", "success", None, 0.51),
        ("finish", "s4", "success", None, 1.01),
        ("finish", "s1", "success", None, 1.63),
    ]


def test_plan_steps_close_finishes_what_a_cancel_left_open():
    """SIGTERM during `sleep 30`: Bolt logged the failed result and the plan's end, never the command's."""
    lines = _lines("cancel", "stderr")
    steps = PlanSteps()
    live = [event for line in lines for event in steps.feed_stderr(line)]
    assert _brief(live) == [
        ("start", "s1", None, "plan", "demo::slow", []),
        ("message", "s1", "sleeping"),
        ("start", "s2", "s1", "command", "sleep 30", ["localhost"]),
        ("result", "s2", "localhost", "failure"),
    ]
    closing = steps.close(failed=True)
    assert _brief(closing) == [("finish", "s2", "failure", None, None), ("finish", "s1", "failure", None, 3.94)]
    assert steps.close(failed=True) == []


def test_plan_steps_close_when_bolt_never_logged_the_plan_end():
    steps = PlanSteps()
    for line in _lines("cancel", "stderr")[:5]:  # up to `Starting: command 'sleep 30'`
        steps.feed_stderr(line)
    assert _brief(steps.close(failed=True)) == [
        ("finish", "s2", "failure", None, None),
        ("finish", "s1", "failure", None, None),
    ]


def test_plan_steps_fail_plan_leaves_only_the_plan_step():
    """`fail_plan` shows on stdout only: the plan's step fails because the run did."""
    assert _brief(_feed(_lines("fails", "stderr"), failed=True)) == [
        ("start", "s1", None, "plan", "demo::fails", []),
        ("finish", "s1", "failure", None, 0.0),
    ]
    assert _feed(_lines("unknown", "stderr"), failed=True) == []


def test_plan_steps_result_before_its_starting_line_waits_for_it():
    """Results are written by Bolt's worker threads, `Starting:` by its event thread: a result can
    come first (here `echo outer` on localhost, moved up to right after its `Running` line). It
    belongs to no open step (the open `echo inner` has localhost's result already), so it waits."""
    lines = _lines("outer", "stderr")
    early = next(i for i, line in enumerate(lines) if line.startswith('{"target":"localhost"') and "echo outer" in line)
    running = lines.index("Running command 'echo outer' on [\"localhost\"]\x1b[0m")
    moved = lines[: running + 1] + [lines[early]] + [line for i, line in enumerate(lines) if running < i != early]
    brief = _brief(_feed(moved, failed=False))
    assert brief[7:10] == [
        ("start", "s4", "s1", "command", "echo outer", ["localhost", "local2"]),
        ("result", "s4", "localhost", "success"),
        ("result", "s4", "local2", "success"),
    ]
    # Before `echo inner` had its localhost result: `echo inner` is no command `echo outer` ran.
    inner = next(i for i, line in enumerate(lines) if line.startswith('{"target":"localhost"') and "echo inner" in line)
    moved = lines[:inner] + [lines[early]] + [line for i, line in enumerate(lines) if inner <= i != early]
    brief = _brief(_feed(moved, failed=False))
    assert ("result", "s3", "localhost", "success") in brief and ("result", "s4", "localhost", "success") in brief


def test_plan_steps_a_result_that_never_found_its_step_comes_out_at_close():
    lines = _lines("outer", "stderr")
    result = next(line for line in lines if line.startswith('{"target":"localhost"') and "echo outer" in line)
    steps = PlanSteps()
    assert steps.feed_stderr(lines[1]) != [] and steps.feed_stderr(result) == []
    closing = _brief(steps.close(failed=True))
    assert closing == [("result", None, "localhost", "success"), ("finish", "s1", "failure", None, None)]


def test_plan_steps_message_text_is_never_a_step():
    """`out::message('Starting: plan fake')` prints the text, then logs it: one message, no step."""
    lines = [line.replace("starting with 1", "Starting: plan fake") for line in _lines("steps", "stderr")]
    brief = _brief(_feed(lines, failed=True))
    assert brief[:3] == [
        ("start", "s1", None, "plan", "demo::steps", []),
        ("message", "s1", "Starting: plan fake"),
        ("start", "s2", "s1", "command", SLOW, ["localhost"]),
    ]
    assert [entry for entry in brief if entry[0] == "start"][-1][1] == "s4"


def test_plan_steps_plain_lines_outside_a_plan_are_no_messages():
    lines = ["/usr/lib/ruby/vendor_ruby/x.rb:1: warning: something", *_lines("fails", "stderr"), "trailing text"]
    assert [entry[0] for entry in _brief(_feed(lines, failed=True))] == ["start", "finish"]


def test_plan_steps_outcome_of_each_capture():
    """The last non-stream stdout line and the exit code give the return value or the error."""
    outcomes = {name: plan_outcome(_final_line(name), _exit_code(name)) for name in
                ("steps", "outer", "sub", "fails", "missing", "unknown", "cancel", "parallel")}  # fmt: skip
    assert outcomes["outer"] == ("finished", None)
    assert outcomes["sub"] == ({"ok": True}, None)
    assert outcomes["cancel"] == (None, None)  # killed: Bolt printed nothing
    assert outcomes["fails"] == (
        None,
        {
            "kind": "demo/custom",
            "issueCode": None,
            "message": "boom",
            "details": {"why": "because", "file": "/srv/bolt-project/plans/fails.pp", "line": 4, "column": 3},
        },
    )
    assert outcomes["missing"][1]["message"] == "demo::steps: expects a value for parameter 'failing'"
    assert outcomes["unknown"][1]["kind"] == "bolt/unknown-plan"
    value, error = outcomes["steps"]
    results = results_of_outcome(value, error)
    assert [(r["target"], r["status"]) for r in results] == [("localhost", "success"), ("refused", "failure")]
    assert len(results_of_outcome(*outcomes["parallel"])) == 6
    for name in ("outer", "sub", "fails", "missing", "cancel"):
        assert results_of_outcome(*outcomes[name]) == [], name


def test_plan_steps_outcome_needs_the_exit_code():
    """Real Bolt: a plan returning an error it caught prints Bolt's error shape and exits 0."""
    caught = '{"kind":"demo/boom","msg":"boom","details":{}}'
    assert plan_outcome(caught, 0) == ({"kind": "demo/boom", "msg": "boom", "details": {}}, None)
    assert plan_outcome(caught, 1)[1] == {"kind": "demo/boom", "issueCode": None, "message": "boom", "details": {}}
    assert plan_outcome("null", 0) == (None, None)
    assert plan_outcome("1", 0) == (1, None)
    assert plan_outcome('"a\\nb"', 0) == ("a\nb", None)
    assert plan_outcome("Error: something odd", 1) == (
        None, {"kind": None, "issueCode": None, "message": "Error: something odd", "details": {}},
    )  # fmt: skip


def test_plan_steps_results_of_a_single_result_and_of_an_error_result_set():
    one = (BOLT_SAMPLES / "plan_stream_steps.stdout").read_text().split("\n")[-2]
    item = plan_outcome(one, 0)[0][0]
    assert [r["target"] for r in results_of_outcome(item, None)] == ["localhost"]  # `return $r.first`
    failed_run = (BOLT_SAMPLES / "plan_fail_json.stdout").read_text().strip()  # run_command failed, not caught
    value, error = plan_outcome(failed_run, 1)
    assert value is None and error["kind"] == "bolt/run-failure"
    results = results_of_outcome(value, error)
    assert [(r["target"], r["status"], r["exitCode"]) for r in results] == [("me", "failure", 4)]
    assert results_of_outcome({"target": "x", "status": "ok"}, None) == []  # a Hash, no Result
    assert results_of_outcome(["a", "b"], None) == []


def test_plan_steps_final_line_shapes_as_the_stdout_classifier_sees_them():
    """The service keeps the last stdout line that is not `stream`: whatever kind the classifier gives it."""
    kinds = {
        '[{"target":"a","action":"command","object":"x","status":"success","value":{}}]': "log",
        '"finished"': "log",
        "null": "log",
        '{"ok":true}': "log",
        "1": "log",
        '{"target":"a","action":"command","object":"x","status":"success","value":{}}': "item",
        '{"kind":"demo/boom","msg":"boom","details":{}}': "error",
    }
    assert {line: classify_stdout(line).kind for line in kinds} == kinds
    assert _final_line("steps").startswith('[{"target":"localhost"')
