"""Two processes on one SQLite file without a broker: the small-team mistake must not destroy runs."""

from __future__ import annotations

import signal

from ..api.helpers import events_of, processes_of, wait_until
from ..conftest import LiveServer


def test_second_process_on_the_same_sqlite_file_leaves_runs_alone_and_warns(make_server, tmp_path):
    """Bug (issue 12): starting a second server marked the first one's run `interrupted`,
    SIGKILLed its Bolt processes, then crashed on a duplicate event key."""
    shared = {"BOLTDECK_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}"}
    a = make_server(extra_env=shared)
    body = {"targets": ["localhost"], "command": "echo a; sleep 30", "expertMode": True}
    execution_id = a.run("/api/commands", body).json()["executionId"]
    started = lambda: any(e["type"] == "stdout" for e in events_of(a, execution_id))  # noqa: E731
    assert wait_until(started, 10), "bolt never printed"
    pids = set(processes_of(execution_id))
    (tmp_path / "b").mkdir()
    b = LiveServer(tmp_path / "b", shared)
    b.token = a.token  # the admin exists already
    try:
        b.start()
        b.stop(signal.SIGKILL)
        b.start()  # B's own predecessor is provably dead, A is alive: untouched
        assert a.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
        assert pids <= set(processes_of(execution_id)), "the second process killed the first one's Bolt"
        assert "BOLTDECK_BROKER_URL is empty" in b.log_path.read_text()
        b.api("POST", f"/api/executions/{execution_id}/cancel")  # reaches A through the store
        assert a.wait_final(execution_id)["status"] == "cancelled"
        events = events_of(b, execution_id)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert events[-1]["type"] == "complete" and events[-1]["data"]["status"] == "cancelled"
    finally:
        b.stop(signal.SIGKILL)
