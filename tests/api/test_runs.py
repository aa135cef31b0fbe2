"""Running commands, tasks, Puppet and package actions through the HTTP API (issue 2)."""

from __future__ import annotations

import time

from .helpers import events_of


def test_runs_command_failure_records_exit_code_and_output(server):
    response = server.run("/api/commands", {"targets": ["localhost"], "command": "echo hi; echo err >&2; exit 3"}, wait=True)
    assert response.status_code == 200
    execution = response.json()
    assert execution["status"] == "failed"
    (result,) = execution["results"]
    assert (result["target"], result["exitCode"], result["stdout"], result["stderr"]) == ("localhost", 3, "hi\n", "err\n")
    assert result["error"]["kind"] == "puppetlabs.tasks/command-error"


def test_runs_one_failing_target_of_two_is_partial(server):
    execution = server.run("/api/commands", {"targets": ["localhost", "down01"], "command": "echo ok"}, wait=True).json()
    assert execution["status"] == "partial"
    by_target = {r["target"]: r for r in execution["results"]}
    assert by_target["localhost"]["status"] == "success" and by_target["localhost"]["stdout"] == "ok\n"
    assert by_target["down01"]["error"]["issueCode"] == "CONNECT_ERROR"
    assert execution["summary"]["failed"] == ["down01"]


def test_runs_success_through_a_group(server):
    execution = server.run("/api/commands", {"targets": ["local"], "command": "echo grouped"}, wait=True).json()
    assert execution["status"] == "success"
    assert sorted(r["target"] for r in execution["results"]) == ["local2", "localhost"]


def test_runs_answer_202_without_waiting_for_the_run_with_links(server):
    """The answer comes while the command still runs (how fast is the bench's business: a
    median under 0.1 s failed here under load, on PostgreSQL)."""
    server.api("GET", "/api/inventory")  # warm the inventory cache, as a running server has
    for _ in range(3):
        started = time.perf_counter()
        response = server.run("/api/commands", {"targets": ["localhost"], "command": "sleep 5"})
        answered = time.perf_counter() - started
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "queued"
        assert body["links"]["stream"] == f"/api/executions/{body['executionId']}/stream"
        record = server.api("GET", f"/api/executions/{body['executionId']}").json()
        assert record["status"] in ("queued", "running") and answered < 5, (record["status"], answered)
        server.api("POST", f"/api/executions/{body['executionId']}/cancel")


def test_runs_task_with_json_result_and_parameters(server):
    execution = server.run(
        "/api/tasks/run", {"targets": ["localhost"], "task": "demo::json", "params": {"name": "deck"}}, wait=True
    ).json()
    assert execution["status"] == "success"
    assert execution["results"][0]["value"] == {"greeting": "hello deck", "n": 3}


def test_runs_task_failure(server):
    execution = server.run("/api/tasks/run", {"targets": ["localhost"], "task": "demo::fail"}, wait=True).json()
    assert execution["status"] == "failed"
    assert execution["results"][0]["exitCode"] == 5
    assert execution["results"][0]["stdout"] == "partial out\n"


def test_runs_package_install_goes_through_the_package_task(server):
    body = {"targets": ["localhost"], "action": "install", "name": "tree", "version": "2.1.0-1", "expertMode": True}
    execution = server.run("/api/packages", body, wait=True).json()
    assert execution["status"] == "success", execution
    argv = [a for a in server.invocations() if a[0:3] == ["task", "run", "package"]][-1]
    assert argv[argv.index("--params") + 1].startswith("@")  # a params file, never the values in argv
    assert """--params '{"action": "install", "name": "tree", "version": "2.1.0-1"}'""" in execution["commandLine"]
    assert execution["results"][0]["value"]["status"] == "installed"
    assert "package" in execution["commandLine"] and "--stream" in execution["commandLine"]


def test_runs_puppet_agent_exit_2_is_success_with_changes(make_server, tmp_path):
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    puppet = bin_dir / "puppet"
    puppet.write_text('#!/bin/sh\necho "Notice: Applied catalog; args: $*"\nexit 2\n')
    puppet.chmod(0o755)
    import os

    live = make_server(extra_env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    body = {"targets": ["localhost"], "noop": True, "environment": "production", "tags": ["ntp"], "expertMode": True}
    execution = live.run("/api/puppet/runs", body, wait=True).json()
    assert execution["status"] == "success", execution
    (result,) = execution["results"]
    assert result["exitCode"] == 2
    assert "--test --color=false --detailed-exitcodes --noop --environment production --tags ntp" in result["stdout"]
    puppet.write_text("#!/bin/sh\nexit 4\n")
    failed = live.run("/api/puppet/runs", {"targets": ["localhost"]}, wait=True).json()
    assert failed["status"] == "failed" and failed["results"][0]["exitCode"] == 4


def test_runs_expert_mode_exposes_command_and_output_events(server):
    expert = server.run("/api/commands", {"targets": ["localhost"], "command": "echo x", "expertMode": True}, wait=True)
    plain = server.run("/api/commands", {"targets": ["localhost"], "command": "echo x"}, wait=True)
    expert_types = {e["type"] for e in events_of(server, expert.json()["id"])}
    plain_types = {e["type"] for e in events_of(server, plain.json()["id"])}
    assert {"command", "stdout", "start", "result", "status", "complete"} <= expert_types
    assert plain_types == {"start", "status", "result", "progress", "complete"}
    assert plain.json()["commandLine"] is None
    assert "command run" in expert.json()["commandLine"]
