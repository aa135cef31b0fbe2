"""Bolt plans through the API (issue 17), against the Bolt test double and the real Bolt CLI.

The scenario project's plans (tests/realbolt/project/plans): demo::steps runs a slow command,
the hello task, then a command that fails on the `failing` targets (caught, and returned);
demo::fails calls fail_plan; demo::outer runs demo::inner; demo::slow sleeps; demo::hidden
is private. Each test runs once per Bolt through the `bolt_server` fixture.
"""

from __future__ import annotations

from ..api.helpers import events_of, processes_of, wait_until
from ..streaming.sse_client import SSEStream

STEPS = {"plan": "demo::steps", "targets": ["localhost"], "params": {"failing": "refused"}, "timeoutSeconds": 120}


def _start(server, body: dict) -> str:
    response = server.run("/api/plans/run", body)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _steps(events: list[dict]) -> list[tuple]:
    """Each step event as (phase, kind, object, status) in order."""
    return [
        (e["data"]["phase"], e["data"]["kind"], e["data"]["object"], e["data"].get("status"))
        for e in events
        if e["type"] == "step"
    ]


def test_plan_streams_its_steps_messages_results_and_return_value_live(bolt_server):
    execution_id = _start(bolt_server, STEPS)
    seen, raw = [], set()
    with SSEStream(f"{bolt_server.url}/api/executions/{execution_id}/stream", headers=bolt_server.auth) as stream:
        for frame in stream.events():
            if frame.event in ("step", "stepResult", "message", "planResult", "complete"):
                seen.append(frame.json)
            elif frame.event in ("stdout", "stderr", "log", "command"):
                raw.add(frame.event)
        assert stream.closed_by_server
    assert raw == set(), "without expert mode, Bolt's raw lines stay out of the stream"
    slow, check = "for i in 1 2 3; do echo \"line $i\"; sleep 0.5; done", "echo checked"
    assert _steps(seen) == [
        ("start", "plan", "demo::steps", None),
        ("start", "command", slow, None),
        ("finish", "command", slow, "success"),
        ("start", "task", "demo::hello", None),
        ("finish", "task", "demo::hello", "success"),
        ("start", "command", check, None),
        ("finish", "command", check, "failure"),
        ("finish", "plan", "demo::steps", "failure"),
    ]
    steps = [e["data"] for e in seen if e["type"] == "step"]
    plan_id = steps[0]["id"]
    assert steps[0]["parent"] is None and all(s["parent"] == plan_id for s in steps[1:] if s["phase"] == "start")
    assert steps[6]["failures"] == 1 and steps[5]["targets"] == ["localhost", "refused"]
    # each step's per-target results are attached to it
    by_step: dict[str, dict[str, str]] = {}
    for event in seen:
        if event["type"] == "stepResult":
            by_step.setdefault(event["data"]["step"], {})[event["target"]] = event["data"]["status"]
    assert by_step == {
        steps[1]["id"]: {"localhost": "success"},
        steps[3]["id"]: {"localhost": "success"},
        steps[5]["id"]: {"localhost": "success", "refused": "failure"},
    }
    assert [e["data"]["text"] for e in seen if e["type"] == "message"] == ["starting with world", "done"]
    order = [(e["type"], e["data"].get("text") or e["data"]["phase"]) for e in seen if e["type"] in ("step", "message")]
    assert order[:3] == [("step", "start"), ("message", "starting with world"), ("step", "start")]
    assert order[-3:] == [("step", "finish"), ("message", "done"), ("step", "finish")]
    assert [e["type"] for e in seen][-2:] == ["planResult", "complete"]
    # live: the first command's end came out while the task (3 s) was still to run
    first_done = next(e for e in seen if e["type"] == "step" and e["data"]["phase"] == "finish")
    result_event = next(e for e in seen if e["type"] == "planResult")
    assert _seconds_between(first_done["timestamp"], result_event["timestamp"]) > 2
    # the plan returned a ResultSet with a failure and Bolt exited 0: the execution failed
    value = result_event["data"]["value"]
    assert [(item["target"], item["status"]) for item in value] == [("localhost", "success"), ("refused", "failure")]
    execution = bolt_server.wait_final(execution_id)
    assert (execution["status"], execution["exitCode"]) == ("failed", 0)
    assert {r["target"]: r["status"] for r in execution["results"]} == {"localhost": "success", "refused": "failure"}
    assert execution["planResult"]["value"] == value and execution["planResult"]["error"] is None
    assert execution["summary"]["failed"] == ["refused"]


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def test_plan_calling_fail_plan_fails_with_its_error(bolt_server):
    execution = bolt_server.run("/api/plans/run", {"plan": "demo::fails", "params": {"why": "testing"}}, wait=True).json()
    assert (execution["status"], execution["exitCode"]) == ("failed", 1)
    error = execution["planResult"]["error"]
    assert (error["kind"], error["message"], error["details"]["why"]) == ("demo/custom", "boom", "testing")
    assert execution["results"] == [] and execution["targets"] == []


def test_sub_plan_steps_nest_under_it_and_a_plain_return_value_is_kept(bolt_server):
    body = {"plan": "demo::outer", "targets": ["localhost", "local2"]}
    execution = bolt_server.run("/api/plans/run", body, wait=True).json()
    assert execution["status"] == "success", execution
    assert execution["planResult"] == {"value": "finished", "error": None}
    steps = [e["data"] for e in events_of(bolt_server, execution["id"]) if e["type"] == "step" and e["data"]["phase"] == "start"]
    outer, inner, inner_command, outer_command = steps
    assert (outer["object"], inner["object"]) == ("demo::outer", "demo::inner")
    assert (inner["parent"], inner_command["parent"], outer_command["parent"]) == (outer["id"], inner["id"], outer["id"])
    assert (inner_command["object"], outer_command["object"]) == ("echo inner", "echo outer")
    assert sorted(inner_command["targets"]) == ["local2", "localhost"]


def test_cancel_during_a_step_ends_the_plan_cancelled_with_no_process_left(bolt_server):
    execution_id = _start(bolt_server, {"plan": "demo::slow", "targets": ["localhost"], "params": {"seconds": 120}})

    def sleeping() -> bool:
        for pid in processes_of(execution_id):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if handle.read().split(b"\0")[0].endswith(b"sleep"):
                        return True
            except OSError:
                continue
        return False

    assert wait_until(sleeping, 30), "the plan's command never started"
    response = bolt_server.api("POST", f"/api/executions/{execution_id}/cancel")
    assert response.status_code == 200, response.text
    assert bolt_server.wait_final(execution_id, timeout=30)["status"] == "cancelled"
    assert wait_until(lambda: processes_of(execution_id) == [], 10), "processes outlived the cancel"
    finished = [e["data"] for e in events_of(bolt_server, execution_id) if e["type"] == "step" and e["data"]["phase"] == "finish"]
    assert {s["kind"] for s in finished} == {"plan", "command"}, "the open steps are closed when the plan ends"


def _refused(server, body: dict, field: str) -> str:
    before = server.api("GET", "/api/executions").json()["total"]
    response = server.run("/api/plans/run", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert field in error["details"], error
    assert server.api("GET", "/api/executions").json()["total"] == before, "a refused plan started something"
    return error["message"]


def test_bad_plan_requests_are_400s_naming_the_problem_and_start_nothing(bolt_server):
    assert "does not exist" in _refused(bolt_server, {"plan": "demo::nope"}, "plan")
    assert "private" in _refused(bolt_server, {"plan": "demo::hidden"}, "plan")
    missing = {"plan": "demo::steps", "targets": ["localhost"]}
    assert "missing" in _refused(bolt_server, missing, "params.failing")
    wrong = {**STEPS, "params": {"failing": "refused", "greeting": 7}}
    assert "String" in _refused(bolt_server, wrong, "params.greeting")
    unknown = {**STEPS, "params": {"failing": "refused", "bogus": 1}}
    _refused(bolt_server, unknown, "params.bogus")
    outside = {**STEPS, "params": {"failing": "nowhere01"}}
    assert "nowhere01" in _refused(bolt_server, outside, "params.failing")
    _refused(bolt_server, {**STEPS, "targets": ["nowhere01"]}, "targets")
    twice = {**STEPS, "params": {"failing": "refused", "targets": "localhost"}}
    _refused(bolt_server, twice, "targets")


def test_plan_list_and_metadata_hide_private_plans(bolt_server):
    names = [p["name"] for p in bolt_server.api("GET", "/api/plans").json()["plans"]]
    assert {"demo::steps", "demo::fails", "demo::outer", "demo::slow"} <= set(names)
    assert "demo::hidden" not in names and names == sorted(names)
    steps = bolt_server.api("GET", "/api/plans/demo::steps").json()
    params = {p["name"]: p for p in steps["parameters"]}
    assert params["targets"]["targetSpec"] and params["targets"]["required"]
    assert params["greeting"]["type"] == "String[1]" and not params["greeting"]["required"]
    assert params["greeting"]["description"] == "Who the hello task greets"
    assert bolt_server.api("GET", "/api/plans/demo::hidden").status_code == 404
    assert bolt_server.api("GET", "/api/plans/demo::nope").status_code == 404


def test_rerun_failed_narrows_the_plans_targets_to_the_failed_ones(bolt_server):
    original = bolt_server.run("/api/plans/run", STEPS, wait=True).json()
    assert original["summary"]["failed"] == ["refused"]
    response = bolt_server.api("POST", f"/api/executions/{original['id']}/rerun", json={"scope": "failed"})
    assert response.status_code in (200, 202), response.text
    rerun = bolt_server.wait_final(response.json()["executionId"], timeout=120)
    assert rerun["request"]["targets"] == ["refused"] and rerun["request"]["params"] == {"failing": "refused"}
    assert rerun["targets"] == ["refused"]


def test_a_plans_sensitive_parameter_never_shows_in_anything_recorded(bolt_server):
    """demo::secret puts its token in a command, a message and its return value: Bolt logs and
    prints it in clear; Boltdeck stores none of it, expert mode or not."""
    secret = "S3cr3tValue42"
    body = {"plan": "demo::secret", "targets": ["localhost"], "params": {"token": secret}, "expertMode": True}
    execution = bolt_server.run("/api/plans/run", body, wait=True).json()
    assert execution["status"] == "success", execution
    assert execution["request"]["params"] == {"token": "Sensitive [value redacted]"}
    assert execution["planResult"]["value"] == "Sensitive [value redacted]"
    events = bolt_server.api("GET", f"/api/executions/{execution['id']}/events", params={"full": "true", "limit": 1000}).text
    assert '"type":"step"' in events and "echo token=Sensitive [value redacted]" in events
    texts = [events, str(execution), bolt_server.api("GET", f"/api/executions/{execution['id']}/output").text]
    assert all(secret not in text for text in texts)
    rerun = bolt_server.api("POST", f"/api/executions/{execution['id']}/rerun", json={"scope": "all"})
    assert rerun.status_code == 409 and rerun.json()["error"]["code"] == "sensitive_parameters"
