"""The scenarios that matter, against the Bolt test double and against the real Bolt CLI.

Each test runs twice through the `bolt_server` fixture: with tests/bolt_double/bolt, then with
the real Bolt that BOLTDECK_TEST_REAL_BOLT names (skipped, with one line saying how, without
it; .ci/run sets it). Where the two disagree, the real Bolt is right. Real Bolt takes about a
second to start, so the set is kept to one run per scenario.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ..api.helpers import events_of, processes_of, wait_until
from ..streaming.sse_client import SSEStream

LOCAL = ["localhost"]


def _run(server, path: str, body: dict) -> dict:
    """Run and wait for the finished execution."""
    response = server.run(path, body, wait=True)
    assert response.status_code == 200, response.text
    return response.json()


def _start(server, body: dict) -> str:
    response = server.run("/api/commands", body)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _results(execution: dict) -> dict[str, dict]:
    return {result["target"]: result for result in execution["results"]}


def _streamed(server, execution_id: str, stream: str) -> dict[str, str]:
    """The live `stream` text of each target, joined from the execution's events."""
    text: dict[str, str] = {}
    for event in events_of(server, execution_id):
        if event["type"] == stream:
            text[event["target"]] = text.get(event["target"], "") + event["data"]["text"]
    return text


def _running(execution_id: str, program: bytes) -> bool:
    """Whether a process of the execution runs `program` (the command itself, not only Bolt)."""
    for pid in processes_of(execution_id):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if handle.read().split(b"\0")[0].endswith(program):
                    return True
        except OSError:
            continue
    return False


def _wait_for_flag(flag) -> str:
    """Shell that blocks until the test creates `flag` (the command's own timeout ends it otherwise)."""
    return f"while [ ! -e {flag} ]; do sleep 0.05; done"


def test_scenario_command_output_per_target(bolt_server):
    body = {"targets": ["localhost", "local2"], "command": "echo out; echo err >&2", "expertMode": True}
    execution = _run(bolt_server, "/api/commands", body)
    assert execution["status"] == "success", execution
    for result in _results(execution).values():
        assert (result["status"], result["exitCode"], result["stdout"], result["stderr"]) == ("success", 0, "out\n", "err\n")
    assert _streamed(bolt_server, execution["id"], "stdout") == {"localhost": "out\n", "local2": "out\n"}
    assert _streamed(bolt_server, execution["id"], "stderr") == {"localhost": "err\n", "local2": "err\n"}


def test_scenario_task_result_and_live_output(bolt_server):
    body = {"targets": LOCAL, "task": "demo::hello", "params": {"name": "scenario"}, "expertMode": True}
    execution = _run(bolt_server, "/api/tasks/run", body)
    assert execution["status"] == "success", execution
    printed = 'line 1\nline 2\nline 3\n{"greeting": "hello scenario", "n": 3}\n'
    assert _results(execution)["localhost"]["stdout"] == printed  # not pure JSON: Bolt keeps it as text
    assert _streamed(bolt_server, execution["id"], "stdout")["localhost"] == printed
    assert "name=scenario" in _streamed(bolt_server, execution["id"], "stderr")["localhost"]


def test_scenario_unreachable_target_makes_a_partial_run(bolt_server):
    execution = _run(bolt_server, "/api/commands", {"targets": ["localhost", "refused"], "command": "echo up"})
    assert execution["status"] == "partial", execution
    results = _results(execution)
    assert (results["localhost"]["status"], results["localhost"]["stdout"]) == ("success", "up\n")
    refused = results["refused"]
    assert refused["status"] == "failure"
    assert refused["error"]["kind"] == "puppetlabs.tasks/connect-error"
    assert "Connection refused" in refused["error"]["message"]


def test_scenario_cancel_kills_the_running_command(bolt_server):
    execution_id = _start(bolt_server, {"targets": LOCAL, "command": "sleep 60"})
    assert wait_until(lambda: _running(execution_id, b"sleep"), 30), "the command never started"
    response = bolt_server.api("POST", f"/api/executions/{execution_id}/cancel")
    assert response.status_code == 200, response.text
    assert bolt_server.wait_final(execution_id, timeout=30)["status"] == "cancelled"
    assert wait_until(lambda: processes_of(execution_id) == [], 10), "processes outlived the cancel"


def test_scenario_timeout_ends_timed_out(bolt_server):
    execution_id = _start(bolt_server, {"targets": LOCAL, "command": "sleep 60", "timeoutSeconds": 5})
    execution = bolt_server.wait_final(execution_id, timeout=60)
    assert execution["status"] == "timed_out", execution
    assert 4900 <= execution["durationMs"] < 30000
    assert wait_until(lambda: processes_of(execution_id) == [], 10), "processes outlived the timeout"


def test_scenario_output_streams_while_the_command_runs(bolt_server, tmp_path):
    """The command cannot finish before the test has seen its first line live: output held back
    until Bolt exits would leave it waiting for the flag until its timeout, without `second`."""
    flag = tmp_path / "go"
    command = f"echo first; {_wait_for_flag(flag)}; echo second"
    execution_id = _start(bolt_server, {"targets": LOCAL, "command": command, "expertMode": True, "timeoutSeconds": 60})
    texts = []
    with SSEStream(f"{bolt_server.url}/api/executions/{execution_id}/stream", headers=bolt_server.auth) as stream:
        for frame in stream.events():
            if frame.event == "stdout":
                texts.append(frame.json["data"]["text"])
                flag.touch()
        assert stream.closed_by_server
    assert "".join(texts) == "first\nsecond\n"
    assert bolt_server.wait_final(execution_id)["status"] == "success"


def test_scenario_resume_after_a_disconnect_loses_and_repeats_nothing(bolt_server, tmp_path):
    flag = tmp_path / "go"
    command = f"echo one; {_wait_for_flag(flag)}; echo two"
    execution_id = _start(bolt_server, {"targets": LOCAL, "command": command, "expertMode": True, "timeoutSeconds": 60})
    url = f"{bolt_server.url}/api/executions/{execution_id}/stream"
    with SSEStream(url, headers=bolt_server.auth) as first:
        seen = []
        for frame in first.events():
            seen.append(frame)
            if frame.event == "stdout":
                break  # disconnect mid-run
    flag.touch()
    with SSEStream(url, headers={**bolt_server.auth, "Last-Event-ID": str(seen[-1].id)}) as resumed:
        rest = list(resumed.events())
        assert resumed.closed_by_server
    assert [frame.id for frame in seen + rest] == [event["seq"] for event in events_of(bolt_server, execution_id)]
    assert [frame.json["data"]["text"] for frame in seen + rest if frame.event == "stdout"] == ["one\n", "two\n"]
    assert rest[-1].event == "complete" and rest[-1].json["data"]["status"] == "success"


def test_scenario_facts_come_from_the_facts_task(bolt_server):
    response = bolt_server.api("GET", "/api/targets/localhost/facts", timeout=120)
    assert response.status_code == 200, response.text
    facts = response.json()["facts"]
    assert facts["os"]["name"].lower() == _os_release()["ID"]


def test_scenario_package_status_of_an_installed_package(bolt_server):
    if not shutil.which("dpkg-query"):
        pytest.skip("package status is checked against dpkg (Debian)")
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "bash"], capture_output=True, text=True, check=True)
    execution = _run(bolt_server, "/api/packages", {"targets": LOCAL, "action": "status", "name": "bash"})
    assert execution["status"] == "success", execution
    value = _results(execution)["localhost"]["value"]
    assert value["version"] == installed.stdout
    assert value["status"] in ("installed", "up to date", "out of date"), value


def _os_release() -> dict[str, str]:
    with open("/etc/os-release", encoding="utf-8") as handle:
        pairs = (line.strip().split("=", 1) for line in handle if "=" in line)
        return {name: value.strip('"') for name, value in pairs}


def test_server_side_search_finds_lines_as_the_viewer_numbers_them(bolt_server):
    """GET /search and /lines over Bolt's own stream (the real Bolt cuts lines at its 4,096-byte reads)."""
    command = "echo first-marker; seq 1 3000; echo err-marker >&2; seq 3001 6000; echo last-marker"
    execution = _run(bolt_server, "/api/commands", {"targets": ["localhost", "local2"], "command": command, "expertMode": True})
    assert execution["status"] == "success", execution
    base = f"/api/executions/{execution['id']}"
    found = bolt_server.api("GET", f"{base}/search?target=local2&q=MARKER").json()
    assert found["count"] == 3 and found["matches"][0]["text"] == "first-marker", found
    assert sorted((m["text"], m["stream"]) for m in found["matches"]) == [
        ("err-marker", "stderr"), ("first-marker", "stdout"), ("last-marker", "stdout")
    ]
    lines = bolt_server.api("GET", f"{base}/lines?target=local2&count=5000").json()
    assert lines["total"] == found["lines"] >= 6003  # more if Bolt cut some lines in two
    assert [line["n"] for line in lines["lines"]] == list(range(min(lines["total"], 5000)))
    joined = "".join(line["text"] for line in lines["lines"] if line["stream"] == "stdout")
    assert "".join(str(n) for n in range(1, 3000)) in joined, "every number, in order (cut lines joined)"
    for match in found["matches"]:
        (line,) = bolt_server.api("GET", f"{base}/lines?target=local2&from={match['n']}&count=1").json()["lines"]
        assert line["text"] == match["text"] and line["seq"] == match["seq"]
