"""Cancel, timeout, crash recovery and the concurrency queue (issue 2)."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timezone

from .helpers import events_of, processes_of, wait_until


def _start(server, command: str, **extra) -> str:
    response = server.run("/api/commands", {"targets": ["localhost"], "command": command, **extra})
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def test_lifecycle_cancel_running_sleep_kills_the_group(server):
    execution_id = _start(server, "sleep 60")
    assert wait_until(lambda: processes_of(execution_id), 10)
    assert wait_until(lambda: server.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running", 10)
    started = time.monotonic()
    response = server.api("POST", f"/api/executions/{execution_id}/cancel")
    assert response.status_code == 200
    execution = server.wait_final(execution_id, timeout=5)
    assert time.monotonic() - started < 2.0
    assert execution["status"] == "cancelled"
    assert processes_of(execution_id) == []
    again = server.api("POST", f"/api/executions/{execution_id}/cancel")
    assert again.status_code == 409


def test_lifecycle_timeout_ends_timed_out(server):
    execution_id = _start(server, "sleep 60", timeoutSeconds=2)
    execution = server.wait_final(execution_id, timeout=10)
    assert execution["status"] == "timed_out"
    assert 1900 <= execution["durationMs"] < 6000
    assert processes_of(execution_id) == []


def test_lifecycle_every_execution_ends_with_complete(server):
    execution_id = _start(server, "echo done")
    server.wait_final(execution_id)
    events = events_of(server, execution_id)
    assert events[0]["type"] == "start"
    assert events[-1]["type"] == "complete"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[-1]["data"]["status"] == "success"


def test_lifecycle_server_killed_mid_run_leaves_interrupted_with_output(make_server):
    live = make_server()
    body = {"targets": ["localhost"], "command": "echo before-kill; sleep 60; echo never", "expertMode": True}
    execution_id = live.run("/api/commands", body).json()["executionId"]
    assert wait_until(
        lambda: any(e["type"] == "stdout" for e in events_of(live, execution_id)), 10
    ), "no output before the kill"
    live.stop(signal.SIGKILL)
    assert wait_until(lambda: processes_of(execution_id) == [], 5), "the orphaned run kept running"
    live.start()
    execution = live.api("GET", f"/api/executions/{execution_id}").json()
    assert execution["status"] == "interrupted"
    events = events_of(live, execution_id)
    assert "before-kill\n" in [e["data"].get("text") for e in events if e["type"] == "stdout"]
    assert events[-1]["type"] == "complete" and events[-1]["data"]["status"] == "interrupted"


def test_lifecycle_queue_holds_executions_beyond_the_limit(make_server):
    live = make_server(max_concurrent_executions=1)
    first = _start(live, "sleep 1")
    second = _start(live, "echo second")
    assert wait_until(lambda: live.api("GET", f"/api/executions/{first}").json()["status"] == "running", 10)
    waiting = live.api("GET", f"/api/executions/{second}").json()
    assert waiting["status"] == "queued" and waiting["queuePosition"] == 1
    third = _start(live, "echo third")
    assert live.api("POST", f"/api/executions/{third}/cancel").json()["status"] == "cancelled"
    assert live.wait_final(second)["status"] == "success"
    assert live.wait_final(first)["finishedAt"] <= live.wait_final(second)["startedAt"]


def test_lifecycle_sigterm_shutdown_records_interrupted(make_server):
    """Regression: this test asserted only that `stop()` returned a code, which it always does
    (it SIGKILLs after a timeout), and the restart's recovery marks the run `interrupted` anyway.
    Now the server must exit 0 on its own and have written the end itself before it exited."""
    live = make_server()
    execution_id = _start(live, "sleep 60")
    assert wait_until(lambda: processes_of(execution_id), 10)
    assert live.stop(signal.SIGTERM) == 0, "the server did not shut down by itself on SIGTERM"
    stopped_at = datetime.now(timezone.utc)
    assert processes_of(execution_id) == []
    live.start()
    execution = live.api("GET", f"/api/executions/{execution_id}").json()
    assert execution["status"] == "interrupted"
    complete = events_of(live, execution_id)[-1]
    assert complete["type"] == "complete" and complete["data"]["status"] == "interrupted"
    assert _instant(complete["timestamp"]) <= stopped_at, "the end was written by the restart, not the shutdown"


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
