"""psycopg cooperates with gevent in `boltdeck serve`: while one request's query waits 2 s for
PostgreSQL's answer, a running execution's SSE stream goes on delivering its lines.

The slow query is real: another connection holds a lock on `users`, so the request's token
check waits for it in the server. If psycopg waited inside its C code (as it does when gevent
has not patched `select` first) the whole process would stop; the control proves the
measurement sees that, by forcing psycopg's blocking wait (PSYCOPG_WAIT_FUNC=wait_c).
"""

from __future__ import annotations

import threading
import time

import psycopg
import requests

from ..streaming.sse_client import SSEStream

HELD_SECONDS = 2.0
LINES = "for i in $(seq 1 80); do echo line-$i; sleep 0.05; done"  # 4 s of output


def _stream_while_a_query_waits(live, database_url: str) -> tuple[float, float]:
    """The longest gap between two lines of a followed execution while a request's query waits
    HELD_SECONDS for a lock, and how long that request took."""
    # The same request once beforehand: the first one of a process imports and builds what the
    # later ones reuse (a 0.1-0.3 s pause of its own, measured on a busy machine).
    assert live.api("GET", "/api/executions?limit=1").status_code == 200
    started = live.run("/api/commands", {"targets": ["localhost"], "command": LINES, "expertMode": True})
    assert started.status_code == 202, started.text
    execution_id = started.json()["executionId"]
    stream = SSEStream(f"{live.url}/api/executions/{execution_id}/stream", headers=live.auth, timeout=30)
    lines: list[float] = []
    took: list[float] = []

    def slow_request() -> None:
        began = time.monotonic()
        response = requests.get(live.url + "/api/executions?limit=1", headers=live.auth, timeout=30)
        assert response.status_code == 200, response.text
        took.append(time.monotonic() - began)

    asker = threading.Thread(target=slow_request)
    with psycopg.connect(database_url) as other:
        release = threading.Timer(HELD_SECONDS, other.rollback)
        try:
            for frame in stream.frames():
                if frame.event == "stdout":
                    lines.append(time.monotonic())
                    if len(lines) == 5:  # the stream flows: make one request's query wait
                        other.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
                        release.start()
                        asker.start()
                elif frame.event == "complete":
                    break
        finally:
            stream.close()
            asker.join(30)
            release.join(30)
    gaps = [later - earlier for earlier, later in zip(lines, lines[1:])]
    return max(gaps), took[0]


BLOCKING_WARNING = "psycopg was imported before gevent patched the standard library"


def test_a_slow_query_does_not_stall_a_stream(make_server, database_url):
    live = make_server(database_url=database_url)
    longest_gap, slow = _stream_while_a_query_waits(live, database_url)
    assert slow > HELD_SECONDS - 0.2, f"the request took {slow:.2f}s: its query did not wait for the lock"
    assert longest_gap < 0.2, f"the stream stopped for {longest_gap:.2f}s while one query waited"
    assert BLOCKING_WARNING not in live.log_path.read_text()


def test_control_a_driver_that_blocks_the_loop_stalls_the_stream(make_server, database_url):
    live = make_server(database_url=database_url, extra_env={"PSYCOPG_WAIT_FUNC": "wait_c"})
    longest_gap, slow = _stream_while_a_query_waits(live, database_url)
    assert slow > HELD_SECONDS - 0.2
    assert longest_gap > HELD_SECONDS - 0.5, f"a blocking wait went unseen: longest gap {longest_gap:.2f}s"
    assert BLOCKING_WARNING in live.log_path.read_text()  # the server said so at start-up
