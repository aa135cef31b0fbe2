"""Scale-out (issue 12): processes on one PostgreSQL and one Redis share executions and never harm each other's.

A queued execution goes to whichever process that runs executions claims it first, not always
to the one that took the request. A test that needs the run in one given process starts the
others with `role="web"` (they serve, stream, cancel and sweep for dead owners, but run nothing).
"""

from __future__ import annotations

import signal
import statistics
import threading
import time

from ..api.helpers import events_of, processes_of, wait_until
from ..streaming.sse_client import SSEStream
from .conftest import LEASE_SECONDS

# Prints the time of each print, so the reader can tell how late each line arrived.
TICKER = "for i in $(seq 1 {n}); do echo \"tick $i $(date +%s.%N)\"; sleep {pause}; done"


def _start(server, command: str, expert: bool = True) -> str:
    response = server.run("/api/commands", {"targets": ["localhost"], "command": command, "expertMode": expert})
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _stream(server, execution_id: str, after: int = 0) -> SSEStream:
    headers = {**server.auth, **({"Last-Event-ID": str(after)} if after else {})}
    return SSEStream(f"{server.url}/api/executions/{execution_id}/stream", headers=headers, timeout=60)


def _ticks(frames) -> list[tuple[str, float]]:
    """(line, lateness in seconds) of each `tick` line among stdout frames."""
    found = []
    for frame in frames:
        if frame.event != "stdout":
            continue
        for line in frame.json["data"]["text"].splitlines():
            if line.startswith("tick "):
                found.append((line, frame.arrived - float(line.split()[2])))
    return found


def _status(server, execution_id: str) -> str:
    return server.api("GET", f"/api/executions/{execution_id}").json()["status"]


def test_execution_started_on_a_streams_live_through_b(cluster):
    a, b = cluster.server(), cluster.server(role="web")
    execution_id = _start(a, TICKER.format(n=30, pause=0.05))
    with _stream(b, execution_id) as stream:
        frames = list(stream.events())
    ticks = _ticks(frames)
    assert [line.split()[1] for line, _ in ticks] == [str(i) for i in range(1, 31)]
    lateness = sorted(late for _, late in ticks)
    assert statistics.median(lateness) < 0.05, f"lines reached B late: median {statistics.median(lateness):.3f}s"
    assert frames[-1].event == "complete" and frames[-1].json["data"]["status"] == "success"
    stored = events_of(a, execution_id)
    assert [(f.id, f.event) for f in frames] == [(e["seq"], e["type"]) for e in stored]


def test_starting_stopping_and_killing_b_leaves_a_running_execution_alone(cluster):
    a = cluster.server()
    execution_id = _start(a, "echo started; sleep 30")
    printed = lambda: any(e["type"] == "stdout" for e in events_of(a, execution_id))  # noqa: E731
    assert wait_until(printed, 10), "bolt never printed"
    bolt_pids = set(processes_of(execution_id))  # once it printed: bolt and the sleep, no short-lived helper
    b = cluster.server()
    b.stop(signal.SIGTERM)
    c = cluster.server()
    c.stop(signal.SIGKILL)
    time.sleep(LEASE_SECONDS * 2)  # past C's lease: any sweep has run by now
    d = cluster.server()
    assert _status(a, execution_id) == "running" and _status(d, execution_id) == "running"
    assert bolt_pids <= set(processes_of(execution_id)), "a sibling killed A's Bolt processes"
    assert "started\n" in [e["data"].get("text") for e in events_of(a, execution_id) if e["type"] == "stdout"]
    a.api("POST", f"/api/executions/{execution_id}/cancel")
    assert a.wait_final(execution_id)["status"] == "cancelled"


def test_killed_owner_is_recovered_by_another_process_within_the_lease(cluster):
    a, b = cluster.server(), cluster.server(role="web")  # a web process also sweeps for dead owners
    execution_id = _start(a, "echo before-kill; sleep 60")
    assert wait_until(lambda: any(e["type"] == "stdout" for e in events_of(b, execution_id)), 10)
    a.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    assert wait_until(lambda: _status(b, execution_id) == "interrupted", LEASE_SECONDS + 10, interval=0.2)
    assert time.monotonic() - killed_at <= LEASE_SECONDS + 10
    events = events_of(b, execution_id)
    assert "before-kill\n" in [e["data"].get("text") for e in events if e["type"] == "stdout"]
    assert events[-1]["type"] == "complete" and events[-1]["data"]["status"] == "interrupted"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert wait_until(lambda: processes_of(execution_id) == [], 5), "an orphan of the dead owner survived"


def test_cancel_sent_to_b_stops_an_execution_running_on_a(cluster):
    a, b = cluster.server(), cluster.server(role="web")
    execution_id = _start(a, "sleep 60")
    assert wait_until(lambda: processes_of(execution_id), 10), "bolt never started"
    asked = time.monotonic()
    answer = b.api("POST", f"/api/executions/{execution_id}/cancel")
    assert answer.status_code == 200, answer.text
    assert wait_until(lambda: _status(a, execution_id) == "cancelled", 2)
    assert time.monotonic() - asked < 2.5
    assert wait_until(lambda: processes_of(execution_id) == [], 2), "a process of the cancelled run survived"


def test_cancel_over_a_websocket_to_b_stops_a_queued_and_a_running_execution_of_a(cluster):
    import json

    import websocket

    a, b = cluster.server(max_concurrent_executions=1), cluster.server(role="web", max_concurrent_executions=1)
    running = _start(a, "sleep 60")
    queued = _start(a, "echo never")
    assert wait_until(lambda: processes_of(running), 10), "bolt never started"
    ws = websocket.create_connection(
        b.url.replace("http://", "ws://") + "/api/ws", timeout=30, header=[f"{k}: {v}" for k, v in b.auth.items()]
    )
    try:
        answers = {}
        for execution_id in (queued, running):
            ws.send(json.dumps({"type": "cancel", "executionId": execution_id}))
            answer = json.loads(ws.recv())
            answers[answer["executionId"]] = answer
    finally:
        ws.close()
    assert answers[queued] == {"type": "cancel_accepted", "executionId": queued, "status": "cancelled"}
    assert answers[running]["status"] == "cancelled", answers[running]
    assert processes_of(running) == [] and processes_of(queued) == []
    assert "never\n" not in [e["data"].get("text") for e in events_of(a, queued)]


def test_concurrency_limit_and_fifo_hold_across_three_processes(cluster):
    servers = [cluster.server(max_concurrent_executions=2) for _ in range(3)]
    ids = [_start(servers[i % 3], "sleep 0.5", expert=False) for i in range(10)]
    running_at_once: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            page = servers[0].api("GET", "/api/executions?status=running&limit=50").json()
            running_at_once.append(page["total"])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        finals = [servers[0].wait_final(execution_id, timeout=60) for execution_id in ids]
    finally:
        stop.set()
        watcher.join()
    assert all(f["status"] == "success" for f in finals)
    assert max(running_at_once) == 2, f"running at once: {max(running_at_once)}"
    starts = [f["startedAt"] for f in finals]
    assert starts == sorted(starts), "executions did not start in submission order"


def test_restarting_every_web_process_leaves_a_runner_execution_whole(cluster):
    cluster.runner()
    web = cluster.server(role="web")
    execution_id = _start(web, TICKER.format(n=100, pause=0.2))  # 20 s
    seen = []
    with _stream(web, execution_id) as stream:
        for frame in stream.events():
            seen.append(frame)
            if len(_ticks(seen)) >= 10:
                break
    web.stop(signal.SIGTERM)
    assert wait_until(lambda: processes_of(execution_id), 1), "restarting the web process stopped the run"
    web = cluster.server(role="web")
    with _stream(web, execution_id, after=seen[-1].id) as stream:
        seen += list(stream.events())
    assert seen[-1].event == "complete" and seen[-1].json["data"]["status"] == "success"
    assert [f.id for f in seen] == sorted(set(f.id for f in seen)), "events repeated or out of order"
    assert [int(line.split()[1]) for line, _ in _ticks(seen)] == list(range(1, 101))


def test_stats_name_their_worker_and_add_up_the_cluster(cluster):
    a, b = cluster.server(role="web"), cluster.server()
    here = a.api("GET", "/api/streaming/stats").json()
    assert here["worker"]["pid"] == a.proc.pid and "workers" not in here
    execution_id = _start(a, "sleep 30")  # running for as long as the figures take to show up
    with _stream(a, execution_id):  # one subscriber on A, the run on B

        def both_reported():
            found = a.api("GET", "/api/streaming/stats?scope=cluster").json()
            by_pid = {w["worker"]["pid"]: w for w in found["workers"]}
            ready = by_pid.get(b.proc.pid, {}).get("activeExecutions") == 1
            return found if ready and by_pid[a.proc.pid]["subscribers"]["total"] == 1 else None

        found = wait_until(both_reported, LEASE_SECONDS * 5)  # heartbeats every LEASE_SECONDS / 3
    assert found, "the cluster figures never showed B's run and A's subscriber"
    assert found["cluster"]["workers"] == 2
    assert found["cluster"]["activeExecutions"] == 1 and found["cluster"]["subscribers"] >= 1
    assert a.api("GET", "/api/streaming/stats?scope=galaxy").status_code == 400
    b.api("POST", f"/api/executions/{execution_id}/cancel")


def test_bad_broker_and_database_urls_stop_the_start_naming_the_setting(tmp_path):
    from ..conftest import server_env
    import subprocess
    import sys

    cases = {
        "BOLTDECK_BROKER_URL": "ftp://user:hunter2@127.0.0.1:1/0",
        "BOLTDECK_DATABASE_URL": "postgresql://user:hunter2@127.0.0.1:1/boltdeck",
    }
    for setting, url in cases.items():
        env = {**server_env(tmp_path), setting: url}
        done = subprocess.run(
            [sys.executable, "-m", "boltdeck", "serve", "--port", "0"], env=env, capture_output=True, text=True,
            timeout=60, cwd=tmp_path,
        )
        assert done.returncode != 0
        assert setting in done.stderr and "hunter2" not in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
