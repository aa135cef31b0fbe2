"""Limits on what one user can make the server start: executions, Bolt look-ups, facts (issue 11)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from .helpers import wait_until

SLEEPER = {"targets": ["localhost"], "command": "sleep 60"}


def _write_policy(path, policy: dict) -> None:
    path.write_text(json.dumps({"policy": policy}))  # JSON is YAML


def _audit(server, **params) -> list[dict]:
    response = server.api("GET", "/api/audit", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _total_executions(server) -> int:
    return server.api("GET", "/api/executions?limit=1").json()["total"]


def _invocations_of(server, *words: str) -> list[list[str]]:
    return [argv for argv in server.invocations() if argv[: len(words)] == list(words)]


def _concurrently(count: int, call):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def _operator_server(make_server, tmp_path, **settings):
    """A server whose operators may run `sleep` (the default policy allows diagnostics only)."""
    config = tmp_path / "boltdeck.yaml"
    _write_policy(config, {"roles": {"operator": {"commands": {"allow": [{"prefix": "sleep"}]}}}})
    return make_server(extra_env={"BOLTDECK_CONFIG": str(config)}, **settings)


# executions per user ----------------------------------------------------------------------
def test_resource_limits_active_executions_per_user(make_server, tmp_path):
    """Bug (issue 11): no per-user limit on running or queued executions: one operator queued
    500 hour-long runs in 0.7 s and an admin's run waited at position 501."""
    live = _operator_server(make_server, tmp_path, max_active_executions_per_user=3, max_concurrent_executions=2)
    operator = live.headers_for("operator")
    finished = live.run("/api/commands", {"targets": ["localhost"], "command": "sleep 0"}, headers=operator, wait=True)
    started = [live.run("/api/commands", SLEEPER, headers=operator) for _ in range(3)]
    assert [r.status_code for r in started] == [202, 202, 202]  # two running, one queued: all count
    stored = _total_executions(live)

    refused = live.run("/api/commands", SLEEPER, headers=operator)
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "too_many_executions" and error["details"]["limit"] == 3
    assert error["details"]["active"] == 3 and "cancel one" in error["message"]
    rerun = live.api("POST", f"/api/executions/{finished.json()['id']}/rerun", json={}, headers=operator)
    assert rerun.status_code == 429 and rerun.json()["error"]["code"] == "too_many_executions"
    streamed = live.api("POST", "/api/commands", json=SLEEPER, headers={**operator, "Accept": "text/event-stream"})
    assert streamed.status_code == 429 and streamed.json()["error"]["code"] == "too_many_executions"
    assert _total_executions(live) == stored  # nothing stored, nothing started

    denied = _audit(live, user="test-operator", outcome="denied")
    assert sorted(a["action"] for a in denied) == ["rerun", "run", "run"]
    assert all(a["detail"]["limit"] == 3 and a["detail"]["active"] == 3 for a in denied)

    admin = live.run("/api/commands", SLEEPER)  # another user is not affected: behind one queued run only
    assert admin.status_code == 202, admin.text
    assert live.api("GET", f"/api/executions/{admin.json()['executionId']}").json()["queuePosition"] == 2

    live.api("POST", f"/api/executions/{started[0].json()['executionId']}/cancel", headers=operator)
    # a Response is true when 2xx: retried until the cancelled run has left
    freed = wait_until(lambda: live.run("/api/commands", SLEEPER, headers=operator), timeout=15, interval=0.2)
    assert freed.status_code == 202, f"cancelling one execution did not free a place: {freed.text}"
    for execution_id in [r.json()["executionId"] for r in (*started[1:], admin, freed)]:
        live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_resource_limits_a_burst_of_run_requests_cannot_pass_the_limit_together(make_server, tmp_path):
    """Bug (issue 11): a burst of concurrent run requests must not all pass the per-user check
    before any of them is recorded (starting an execution waits on the database)."""
    live = _operator_server(make_server, tmp_path, max_active_executions_per_user=3)
    operator = live.headers_for("operator")
    answers = _concurrently(20, lambda: live.run("/api/commands", SLEEPER, headers=operator))
    assert sorted(r.status_code for r in answers) == [202] * 3 + [429] * 17
    assert _total_executions(live) == 3
    for response in answers:
        if response.status_code == 202:
            live.api("POST", f"/api/executions/{response.json()['executionId']}/cancel", headers=operator)


# Bolt look-ups ----------------------------------------------------------------------------
def test_resource_limits_unknown_task_asks_bolt_once(make_server):
    """Bug (issue 11): every GET /api/tasks/<unknown> ran `bolt task show`: a viewer could make the
    server start unlimited Bolt processes (the failure was neither shared nor cached)."""
    live = make_server(bolt_failure_cache_seconds=60)
    viewer = live.headers_for("viewer")
    answers = _concurrently(20, lambda: live.api("GET", "/api/tasks/nope::x", headers=viewer))
    assert {r.status_code for r in answers} == {404}
    assert all(r.json()["error"]["details"] == {"task": "nope::x"} for r in answers)
    assert len(_invocations_of(live, "task", "show", "nope::x")) == 1
    again = live.api("GET", "/api/tasks/nope::x", headers=viewer)
    assert again.status_code == 404 and "does not exist" in again.json()["error"]["message"]
    assert len(_invocations_of(live, "task", "show", "nope::x")) == 1  # answered from the failure cache
    assert live.api("GET", "/api/tasks/demo::hello", headers=viewer).status_code == 200  # other keys unaffected


# facts ------------------------------------------------------------------------------------
def test_resource_limits_failing_facts_gathered_once_and_audited(make_server):
    """Bug (issue 11): every facts request on a failing target ran the `facts` task again (with
    SSH attempts), and facts runs were not audited."""
    live = make_server(bolt_failure_cache_seconds=60)
    viewer = live.headers_for("viewer")
    answers = _concurrently(10, lambda: live.api("GET", "/api/targets/down01/facts", headers=viewer))
    answers.append(live.api("GET", "/api/targets/down01/facts", headers=viewer))
    assert {r.status_code for r in answers} == {502}
    assert all("gathering facts on down01 failed" in r.json()["error"]["message"] for r in answers)
    assert len(_invocations_of(live, "task", "run", "facts")) == 1

    assert live.api("GET", "/api/targets/localhost/facts", headers=viewer).status_code == 200
    entries = _audit(live, action="facts", user="test-viewer")
    outcomes = sorted((a["detail"]["target"], a["outcome"]) for a in entries)
    assert outcomes == [("down01", "failed"), ("localhost", "ok")]  # one per gathering, not per request
    assert "down01" in next(a for a in entries if a["outcome"] == "failed")["detail"]["reason"]


def test_resource_limits_facts_gatherings_rate_limited_per_user(make_server):
    """Bug (issue 11): facts gathering was not rate-limited: a viewer could start one Bolt run per request."""
    live = make_server(facts_per_user_per_minute=2)
    viewer = live.headers_for("viewer")
    assert live.api("GET", "/api/targets/localhost/facts", headers=viewer).status_code == 200
    assert live.api("GET", "/api/targets/l2/facts", headers=viewer).status_code == 200
    assert live.api("GET", "/api/targets/localhost/facts", headers=viewer).status_code == 200  # cached: free
    refused = live.api("GET", "/api/targets/down01/facts", headers=viewer)
    assert refused.status_code == 429, refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited" and refused.json()["error"]["details"]["limit"] == 2
    assert len(_invocations_of(live, "task", "run", "facts")) == 2
    assert live.api("GET", "/api/targets/down01/facts").status_code == 502  # the admin has a count of their own
    denied = _audit(live, action="facts", outcome="denied")
    assert [(a["user"], a["detail"]["target"]) for a in denied] == [("test-viewer", "down01")]


# commands ---------------------------------------------------------------------------------
def test_resource_limits_command_starting_with_at_is_refused(server):
    """Bug (issue 11): a command starting with `@` reached Bolt, which reads `@FILE` as a file on
    the Boltdeck host and runs its contents."""
    before = len(server.invocations())
    for command in ("@/etc/hostname", "  @/etc/hostname", "\t@script.sh"):
        response = server.run("/api/commands", {"targets": ["localhost"], "command": command})
        assert response.status_code == 400, (command, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error" and list(error["details"]) == ["command"]
        assert "'@'" in error["details"]["command"][0] and "file on the Boltdeck server" in error["message"]
    assert len(server.invocations()) == before
    # an '@' later is fine, and so is an indented command (it used to be refused as "empty")
    fine = server.run("/api/commands", {"targets": ["localhost"], "command": "  echo user@host"}, wait=True)
    assert fine.status_code == 200 and fine.json()["results"][0]["stdout"] == "user@host\n"

