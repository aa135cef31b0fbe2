"""Bolt plans through the client and the command line, against a live server in the scenario project.

tests/realbolt/project's plans: demo::steps (a slow command, the hello task, a check that
fails on the `failing` targets, messages around them), demo::outer (runs demo::inner),
demo::fails (fail_plan), demo::hidden (private).
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from boltdeck.client import AsyncClient, NotFoundError, ValidationError

from .conftest import boltdeck, run_coroutine

LOOP = "command 'for i in 1 2 3; do echo \"line $i\"; sleep 0.5; done'"


def test_plans_client_lists_plans_and_gives_one_plans_parameters(plan_client):
    names = [plan["name"] for plan in plan_client.plans()]
    assert {"demo::steps", "demo::outer", "demo::fails"} <= set(names) and "demo::hidden" not in names
    steps = plan_client.plan("demo::steps")
    parameters = {p["name"]: p for p in steps["parameters"]}
    assert parameters["failing"]["targetSpec"] and parameters["failing"]["required"]
    assert not parameters["greeting"]["required"] and not parameters["greeting"]["targetSpec"]
    with pytest.raises(NotFoundError):
        plan_client.plan("demo::nope")


def test_plans_exec_returns_the_plans_value_results_and_step_output(plan_client):
    result = plan_client.exec("demo::steps", "localhost", kind="plan", params={"failing": "refused"})
    assert result.status == "failed" and result.exit_code == 0, "a returned ResultSet with a failure, exit 0"
    assert [r["target"] for r in result.value] == ["localhost", "refused"]
    assert {r.target: r.status for r in result.results} == {"localhost": "success", "refused": "failure"}
    assert "line 3\n" in result.output and "checked\n" in result.output and result.error is None
    failed = plan_client.exec("demo::fails", kind="plan", params={"why": "testing"})
    assert failed.status == "failed" and failed.value is None
    assert (failed.error["kind"], failed.error["message"]) == ("demo/custom", "boom")
    with pytest.raises(ValidationError) as refused:
        plan_client.exec("demo::steps", "localhost", kind="plan")
    assert "params.failing" in refused.value.details


def test_plans_exec_stream_yields_messages_and_output_live_then_the_value(plan_client):
    arrived = []
    for chunk in plan_client.exec_stream("demo::steps", "localhost", kind="plan", params={"failing": "local2"}):
        arrived.append((time.monotonic(), chunk))
    texts = [(c.type, c.output) for _, c in arrived]
    assert texts[0] == ("message", "starting with world\n") and ("message", "done\n") in texts
    lines = [when for when, c in arrived if c.type == "stdout" and c.output.startswith("line ")]
    assert len(lines) == 6, "three of the command, three of the task"
    assert lines[2] - lines[0] > 0.6, "each line as it came (expert mode)"
    done = arrived[-1][1]
    assert done.done and done.status == "success" and [r["target"] for r in done.value] == ["localhost", "local2"]


def test_plans_async_exec_runs_a_sub_plan_and_returns_its_value(plan_server):
    async def outer():
        async with AsyncClient(plan_server.url, token=plan_server.token) as client:
            return await client.exec("demo::outer", "local", kind="plan")

    result = run_coroutine(outer())
    assert (result.status, result.value, result.results) == ("success", "finished", [])
    assert result.output.count("[localhost] inner\n") == 1 and "[local2] outer\n" in result.output


def test_plans_cli_run_shows_the_step_tree_live_and_exits_1_on_a_failed_check(plan_cli_env, plan_client):
    proc = subprocess.Popen(
        [sys.executable, "-m", "boltdeck", "run", "plan", "demo::steps", "failing=refused", "greeting=1",
         "-t", "localhost", "--no-color"],
        env=plan_cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with proc:
        arrived = [(time.monotonic(), line.rstrip("\n")) for line in proc.stdout]
        stderr = proc.stderr.read()
    assert proc.returncode == 1, stderr
    lines = [text for _, text in arrived]
    expected = [
        "Starting: plan demo::steps",
        "  starting with 1",
        f"  Starting: {LOOP} on localhost",
        "    localhost: success, exit 0",
        "      [localhost] out: line 1",
        "  Starting: task demo::hello on localhost",
        "  Starting: command 'echo checked' on localhost, refused",
        "    refused: failure: Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1",
        "  done",
    ]
    assert _in_order(lines, expected), lines
    finish = [line for line in lines if line.startswith("  Finished: command 'echo checked'")]
    assert finish and finish[0].startswith("  Finished: command 'echo checked': failure (1 failure) in ")
    first = next(moment for moment, text in arrived if text == "  starting with 1")
    last = next(moment for moment, text in arrived if text.startswith("Finished: plan demo::steps"))
    assert last - first > 1.0, "the tree grows while the plan runs"
    assert lines[lines.index("Returned:") + 1] == "["
    assert lines[-1].startswith("failed in ") and "1 succeeded, 1 failed" in lines[-1]
    execution_id = lines[-1].split("(execution ")[1].rstrip(")")
    params = plan_client.execution(execution_id).raw["request"]["params"]
    assert (params["greeting"], params["failing"]) == ("1", "refused"), "a String parameter keeps its text"


def test_plans_cli_run_indents_a_sub_plan_prints_the_value_and_exits_0(plan_cli_env):
    done = boltdeck(plan_cli_env, "run", "plan", "demo::outer", "-t", "local", "--expert")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "Starting: plan demo::outer",
        "  Starting: plan demo::inner",
        "    Starting: command 'echo inner' on localhost, local2",
    ]
    # Live lines (expert mode) go under the open step running on their target: Bolt's stdout and
    # stderr are two pipes, so a line may come after its step's end and land one level up.
    assert sum(line.strip() == "[local2] out: inner" and line.startswith("  ") for line in lines) == 1, lines
    assert "  Starting: command 'echo outer' on localhost, local2" in lines
    assert lines[lines.index("Returned:") + 1] == '"finished"'
    assert "bolt plan run demo::outer" in done.stderr, "expert mode shows the bolt command line"


def test_plans_cli_fail_plan_shows_the_error_and_bad_parameters_exit_2(plan_cli_env):
    done = boltdeck(plan_cli_env, "run", "plan", "demo::fails", "why=testing", "--no-color")
    assert done.returncode == 1, done.stderr
    assert "Plan failed: boom (demo/custom)" in done.stdout and '"why": "testing"' in done.stdout
    missing = boltdeck(plan_cli_env, "run", "plan", "demo::steps", "-t", "localhost")
    assert missing.returncode == 2 and "params.failing" in missing.stderr, missing.stderr
    unknown = boltdeck(plan_cli_env, "run", "plan", "demo::nope", "x=1")
    assert unknown.returncode == 2 and "demo::nope" in unknown.stderr and "Traceback" not in unknown.stderr


def test_plans_cli_lists_plans_and_shows_a_plans_parameters(plan_cli_env):
    listed = boltdeck(plan_cli_env, "plans")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split()[0] for line in listed.stdout.splitlines()[1:]]
    assert "demo::steps" in rows and "demo::hidden" not in rows
    shown = boltdeck(plan_cli_env, "plan", "show", "demo::steps")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("parameter "))
    table = {line.split()[0]: line.split() for line in lines[header + 1 :]}
    assert table["targets"][1:4] == ["TargetSpec", "(-t)", "yes"], "the parameter --targets fills"
    assert table["failing"][1:3] == ["TargetSpec", "yes"]
    assert table["greeting"][1:4] == ["String[1]", "no", "'world'"]
    assert lines[0] == "demo::steps" and "Three steps" in shown.stdout


def _in_order(lines: list[str], expected: list[str]) -> bool:
    """Whether every expected line is in `lines`, each after the one before (others may come between)."""
    rest = iter(lines)
    return all(any(line == wanted for line in rest) for wanted in expected)
