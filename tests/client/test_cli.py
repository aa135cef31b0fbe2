"""The `boltdeck` client commands as a person runs them: real processes against the shared live server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from .conftest import boltdeck
from .terminal import run_on_terminal

# Four ticks 400 ms apart on each target; the second target to take the lock fails (exit 1).
TICKS = "for i in 1 2 3 4; do echo tick $i; sleep 0.4; done; mkdir {lock}"


def _lines_with_arrival(proc: subprocess.Popen) -> list[tuple[float, str]]:
    lines = []
    for line in proc.stdout:
        lines.append((time.monotonic(), line.rstrip("\n")))
    return lines


def test_cli_run_command_prints_prefixed_lines_live_and_exits_1_when_one_target_fails(cli_env, tmp_path):
    command = TICKS.format(lock=tmp_path / "lock")
    proc = subprocess.Popen(
        [sys.executable, "-m", "boltdeck", "run", "command", command, "-t", "localhost,local2", "--expert"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with proc:
        lines = _lines_with_arrival(proc)
        stderr = proc.stderr.read()
    assert proc.returncode == 1, stderr
    for target in ("localhost", "local2"):
        ticks = [arrived for arrived, text in lines if text.startswith(f"[{target}] out: tick")]
        assert len(ticks) == 4, lines
        assert ticks[-1] - ticks[0] > 0.8, "each tick printed as it came, not all at the end"
    assert any("err:" in text and "mkdir" in text for _, text in lines), "the failing target's stderr, marked err:"
    summary = [text.split() for _, text in lines if text.startswith(("localhost ", "local2 "))]
    assert sorted(row[1] for row in summary) == ["failure", "success"]
    assert "$ " in stderr and "command run" in stderr, "expert mode shows the bolt command line"


def test_cli_tail_of_a_finished_execution_prints_its_whole_output_and_exits_with_its_status(cli_env, sync_client):
    failed = sync_client.run_command("echo first; echo second >&2; exit 3", wait=True)
    done = boltdeck(cli_env, "tail", failed.id)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("[localhost] out: first\n[localhost] err: second\n")
    expert = sync_client.run_command("echo one; echo two", targets="local", expert=True, wait=True)
    done = boltdeck(cli_env, "tail", expert.id, "--no-color")
    assert done.returncode == 0, done.stderr
    for target in ("localhost", "local2"):
        lines = [line for line in done.stdout.splitlines() if line.startswith(f"[{target}]")]
        assert lines == [f"[{target}] out: one", f"[{target}] out: two"]
    assert "\x1b[" not in done.stdout


def test_cli_json_prints_one_event_object_per_line(cli_env):
    done = boltdeck(cli_env, "run", "command", "echo a; echo b", "-t", "localhost", "--expert", "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(isinstance(e, dict) for e in events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert (events[0]["type"], events[-1]["type"]) == ("start", "complete")
    # lines that come together may share an event (the recorder merges what arrives at once)
    assert "".join(e["data"]["text"] for e in events if e["type"] == "stdout") == "a\nb\n"


def test_cli_ctrl_c_with_cancel_on_interrupt_leaves_the_execution_cancelled(cli_env, sync_client):
    proc = subprocess.Popen(
        [sys.executable, "-m", "boltdeck", "run", "command", "sleep 30", "-t", "localhost", "--json",
         "--cancel-on-interrupt"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with proc:
        start = json.loads(proc.stdout.readline())
        assert json.loads(proc.stdout.readline())["data"]["status"] == "running"
        proc.send_signal(signal.SIGINT)
        rest = [json.loads(line) for line in proc.stdout]
        proc.stderr.read()
    assert proc.returncode == 1
    assert rest[-1]["type"] == "complete" and rest[-1]["data"]["status"] == "cancelled"
    assert sync_client.execution(start["executionId"]).status == "cancelled"


def test_cli_ctrl_c_on_a_terminal_asks_and_no_only_stops_following(cli_env, sync_client):
    """Without expert mode, a terminal shows a progress line per target; Ctrl-C asks what to do."""
    screen, code = run_on_terminal(
        [sys.executable, "-m", "boltdeck", "run", "command", "sleep 30", "-t", "localhost,local2"],
        cli_env, interrupt_when=b"local2    running", answer=b"n\n",
    )  # fmt: skip
    assert code == 130
    assert "localhost running" in screen and "Cancel execution" in screen
    execution_id = screen.split("stopped following; execution ")[1].split()[0]
    assert sync_client.execution(execution_id).status == "running", "answering no must not cancel"
    assert sync_client.cancel(execution_id).status == "cancelled"


def test_cli_ctrl_c_on_a_terminal_answered_yes_cancels(cli_env, sync_client):
    screen, code = run_on_terminal(
        [sys.executable, "-m", "boltdeck", "run", "command", "sleep 30", "-t", "localhost"],
        cli_env, interrupt_when=b"localhost running", answer=b"y\n",
    )  # fmt: skip
    assert code == 1
    assert "\x1b[33mcancelled" in screen and "no result" in screen, "the summary, in colour on a terminal"
    execution_id = screen.split("(execution ")[1].split(")")[0]
    assert sync_client.execution(execution_id).status == "cancelled"
    screen, code = run_on_terminal([sys.executable, "-m", "boltdeck", "tail", execution_id, "--no-color"], cli_env)
    assert code == 1 and "cancelled" in screen and "\x1b[3" not in screen


def test_cli_run_task_types_key_value_parameters_by_the_tasks_metadata(cli_env, sync_client):
    done = boltdeck(cli_env, "run", "task", "demo::slow", "count=2", "interval=0.1", "-t", "localhost", "--json")
    assert done.returncode == 0, done.stderr
    execution_id = json.loads(done.stdout.splitlines()[0])["executionId"]
    assert sync_client.execution(execution_id).raw["request"]["params"] == {"count": 2, "interval": 0.1}
    refused = boltdeck(cli_env, "run", "task", "demo::slow", "count=many", "-t", "localhost")
    assert refused.returncode == 2
    assert "params.count" in refused.stderr and "validation_error" in refused.stderr


def test_cli_run_puppet_and_package_send_their_options(cli_env, sync_client):
    done = boltdeck(cli_env, "run", "package", "status", "bash", "-t", "localhost", "--detach")
    assert done.returncode == 0, done.stderr
    package = sync_client.execution(done.stdout.strip())
    assert package.kind == "package" and package.raw["request"]["name"] == "bash"
    done = boltdeck(cli_env, "run", "puppet", "-t", "localhost", "--noop", "--tags", "ntp,ssh", "--detach")
    puppet = sync_client.execution(done.stdout.strip())
    request = puppet.raw["request"]
    assert puppet.kind == "puppet" and (request["noop"], request["tags"]) == (True, ["ntp", "ssh"])


def test_cli_executions_list_show_cancel_and_rerun_failed(cli_env, sync_client):
    partial = sync_client.run_command("echo hi", targets="localhost,down01", wait=True)
    listed = boltdeck(cli_env, "executions", "list", "--status", "partial", "--limit", "100", "--json")
    assert partial.id in [json.loads(line)["id"] for line in listed.stdout.splitlines()]
    shown = boltdeck(cli_env, "executions", "show", partial.id)
    assert shown.returncode == 0 and "partial" in shown.stdout and "[localhost] out: hi" in shown.stdout
    assert "Failed to connect to down01" in shown.stdout
    rerun = boltdeck(cli_env, "rerun", partial.id, "--failed", "--json")
    assert rerun.returncode == 1, "the re-run of the unreachable target fails again"
    assert json.loads(rerun.stdout.splitlines()[0])["data"]["targets"] == ["down01"]
    running = boltdeck(cli_env, "run", "command", "sleep 30", "-t", "localhost", "--detach").stdout.strip()
    cancelled = boltdeck(cli_env, "cancel", running)
    assert (cancelled.returncode, cancelled.stdout) == (0, f"execution {running} is cancelled\n")


def test_cli_usage_connection_and_api_errors_exit_2_with_one_clear_line(cli_env):
    without_url = {k: v for k, v in cli_env.items() if k != "BOLTDECK_URL"}
    done = boltdeck(without_url, "executions", "list")
    assert done.returncode == 2 and "--url" in done.stderr and "BOLTDECK_URL" in done.stderr
    done = boltdeck(cli_env, "tail", "abc", "--url", "http://127.0.0.1:1")
    assert done.returncode == 2 and "connection_failed" in done.stderr
    done = boltdeck(cli_env, "run", "command", "uptime", "-t", "no-such-host")
    assert done.returncode == 2 and "targets: not an inventory target" in done.stderr
    done = boltdeck(cli_env, "run", "command", "uptime")
    assert done.returncode == 2 and "-t/--targets" in done.stderr
    assert "Traceback" not in done.stderr
