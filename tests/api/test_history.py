"""History list, detail, polling, output download and rerun (issue 2)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .helpers import events_of


def test_history_filters_and_pagination(make_server):
    live = make_server()
    ok = live.run("/api/commands", {"targets": ["localhost"], "command": "echo a"}, wait=True).json()
    bad = live.run("/api/commands", {"targets": ["local2"], "command": "exit 1"}, wait=True).json()
    task = live.run("/api/tasks/run", {"targets": ["localhost"], "task": "demo::fail"}, wait=True).json()
    listing = live.api("GET", "/api/executions").json()
    assert listing["total"] == 3
    assert [e["id"] for e in listing["items"]] == [task["id"], bad["id"], ok["id"]]
    assert [e["id"] for e in live.api("GET", "/api/executions?status=failed").json()["items"]] == [task["id"], bad["id"]]
    assert [e["id"] for e in live.api("GET", "/api/executions?kind=task").json()["items"]] == [task["id"]]
    assert [e["id"] for e in live.api("GET", "/api/executions?target=local2").json()["items"]] == [bad["id"]]
    page = live.api("GET", "/api/executions?limit=1&offset=1").json()
    assert page["total"] == 3 and [e["id"] for e in page["items"]] == [bad["id"]]
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert live.api("GET", "/api/executions", params={"since": future}).json()["total"] == 0
    assert live.api("GET", "/api/executions", params={"until": future}).json()["total"] == 3
    bad_filter = live.api("GET", "/api/executions?status=nope")
    assert bad_filter.status_code == 400 and "status.0" in bad_filter.json()["error"]["details"]


def test_history_group_run_is_found_by_member_target(server):
    execution = server.run("/api/commands", {"targets": ["local"], "command": "true"}, wait=True).json()
    found = server.api("GET", "/api/executions?target=local2&limit=500").json()["items"]
    assert execution["id"] in [e["id"] for e in found]


def test_history_polling_pages_with_next_after(server):
    body = {"targets": ["localhost"], "command": "for i in 1 2 3; do echo $i; sleep 0.05; done", "expertMode": True}
    execution = server.run("/api/commands", body, wait=True).json()
    collected, after = [], 0
    while True:
        page = server.api("GET", f"/api/executions/{execution['id']}/events?after={after}&limit=2").json()
        collected += page["events"]
        after = page["nextAfter"]
        if page["complete"]:
            break
    assert [e["seq"] for e in collected] == list(range(1, len(collected) + 1))
    stdout = "".join(e["data"]["text"] for e in collected if e["type"] == "stdout")
    assert stdout == "1\n2\n3\n"


def test_history_output_download_txt_and_ansi(server):
    command = "printf '\\033[32mgreen\\033[0m\\n'; echo plain >&2"
    execution = server.run("/api/commands", {"targets": ["localhost"], "command": command, "expertMode": True}, wait=True)
    execution_id = execution.json()["id"]
    ansi = server.api("GET", f"/api/executions/{execution_id}/output?format=ansi&target=localhost")
    assert ansi.text == "\x1b[32mgreen\x1b[0m\nplain\n"
    txt = server.api("GET", f"/api/executions/{execution_id}/output")
    assert txt.text == "[localhost] green\n[localhost] plain\n"
    assert "attachment" in txt.headers["Content-Disposition"]


def test_history_rerun_all_and_failed_only(server):
    original = server.run("/api/commands", {"targets": ["localhost", "down01"], "command": "echo r"}, wait=True).json()
    assert original["status"] == "partial"
    failed = server.api("POST", f"/api/executions/{original['id']}/rerun?wait=true", json={"scope": "failed"}).json()
    assert failed["targets"] == ["down01"] and failed["parentId"] == original["id"] and failed["rerunScope"] == "failed"
    everything = server.api("POST", f"/api/executions/{original['id']}/rerun", json={})
    assert everything.status_code == 202
    rerun = server.wait_final(everything.json()["executionId"])
    assert rerun["targets"] == ["localhost", "down01"] and rerun["status"] == "partial"
    ok = server.run("/api/commands", {"targets": ["localhost"], "command": "true"}, wait=True).json()
    nothing = server.api("POST", f"/api/executions/{ok['id']}/rerun", json={"scope": "failed"})
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_rerun"
    assert server.api("POST", f"/api/executions/{ok['id']}/rerun", json={"scope": "some"}).status_code == 400


def test_history_sensitive_task_parameter_is_never_stored_or_shown(server):
    body = {"targets": ["localhost"], "task": "demo::json", "params": {"name": "x", "secret": "hunter2"}, "expertMode": True}
    execution = server.run("/api/tasks/run", body, wait=True).json()
    assert execution["status"] == "success"
    assert "hunter2" not in str(execution) and "hunter2" not in str(events_of(server, execution["id"]))
    assert server.api("POST", f"/api/executions/{execution['id']}/rerun", json={}).status_code == 409


def test_history_time_filters_compare_ancient_years_correctly(server):
    """Regression: a year below 1000 was formatted without zero padding and sorted after 2026."""
    before = server.api("GET", "/api/executions", params={"until": "0535-02-05T21:06:44Z"}).json()
    assert before["total"] == 0
    overflow = server.api("GET", "/api/executions", params={"since": "0001-01-01T00:00:00+05:00"})
    assert overflow.status_code == 400 and "since" in overflow.json()["error"]["details"]
    huge = server.api("GET", "/api/executions", params={"offset": str(10**20)})
    assert huge.status_code == 400 and "offset" in huge.json()["error"]["details"]


def test_history_output_download_of_odd_target_name(server):
    """Regression: a non-latin-1 target name in the download file name raised a 500 (now: unknown, 404)."""
    execution = server.run("/api/commands", {"targets": ["localhost"], "command": "true"}, wait=True).json()
    response = server.api("GET", f"/api/executions/{execution['id']}/output", params={"target": "\U0008f780\x06"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_history_filters_by_who_started_it_and_by_request_text(make_server):
    """Issue 16: history had no "started by" filter and no search by command or task text."""
    live = make_server()
    operator = {"Authorization": f"Bearer {live.token_for('operator')}"}
    mine = live.run("/api/commands", {"targets": ["localhost"], "command": "echo 'Quote\"d 100%_done'"}, wait=True)
    theirs = live.run("/api/commands", {"targets": ["localhost"], "command": "whoami"}, wait=True, headers=operator)
    task = live.run("/api/tasks/run", {"targets": ["localhost"], "task": "demo::fail"}, wait=True)
    ids = lambda **params: [e["id"] for e in live.api("GET", "/api/executions", params=params).json()["items"]]  # noqa: E731

    assert ids(createdBy="test-operator") == [theirs.json()["id"]]
    assert ids(createdBy="admin") == [task.json()["id"], mine.json()["id"]]
    assert ids(q="DEMO::fa") == [task.json()["id"]]  # case-insensitive, the task name
    assert ids(q='quote"d') == [mine.json()["id"]]  # a quote, as typed (stored JSON-escaped)
    assert ids(q="100%_") == [mine.json()["id"]]  # LIKE wildcards taken literally
    assert ids(q="100_") == [] and ids(q="0%d") == []  # as wildcards they would match "100%_done"
    assert ids(q="WhoAmI", createdBy="test-operator") == [theirs.json()["id"]]
    assert ids(q="whoami", createdBy="admin") == []
    assert live.api("GET", "/api/executions?q=").status_code == 400


def test_history_cancelled_execution_names_who_cancelled_and_when(server):
    """Issue 16: after Cancel nothing said who cancelled; the audit log's first cancel says it."""
    operator = {"Authorization": f"Bearer {server.token_for('operator')}"}
    started = server.run("/api/commands", {"targets": ["localhost"], "command": "sleep 30"})
    execution_id = started.json()["executionId"]
    cancelled = server.api("POST", f"/api/executions/{execution_id}/cancel", headers=operator)
    assert cancelled.status_code == 200, cancelled.text
    final = server.wait_final(execution_id)
    assert final["status"] == "cancelled"
    assert final["cancelledBy"]["user"] == "test-operator" and final["cancelledBy"]["via"] == "http"
    assert final["cancelledBy"]["at"] >= final["createdAt"]
    done = server.run("/api/commands", {"targets": ["localhost"], "command": "true"}, wait=True).json()
    assert "cancelledBy" not in done


def test_history_filters_refuse_nul_characters(server):
    """Bug (found by schemathesis on PostgreSQL): `createdBy` with a NUL character was a 500."""
    for name in ("createdBy", "q", "target"):
        answer = server.api("GET", "/api/executions", params={name: "a\x00b"})
        assert answer.status_code == 400 and name in answer.json()["error"]["details"], answer.text

