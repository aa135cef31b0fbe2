"""gunicorn with deploy/gunicorn.conf.py: what its hooks do when the web processes stop."""

from __future__ import annotations

import signal
import time

from ..api.helpers import processes_of
from ..streaming.sse_client import SSEStream
from .stack import GunicornServer


def test_gunicorn_stop_interrupts_executions_and_ends_their_streams(tmp_path):
    """Without the config's hooks, a worker waits out graceful_timeout (20 s) for its open streams,
    then cuts them without `complete` and leaves Bolt running; it must interrupt at once instead."""
    web = GunicornServer(tmp_path).start()
    try:
        body = {"targets": ["localhost"], "command": "echo started; sleep 60", "expertMode": True}
        execution_id = web.run("/api/commands", body).json()["executionId"]
        with SSEStream(f"{web.url}/api/executions/{execution_id}/stream", headers=web.auth) as stream:
            events = stream.events()
            next(frame for frame in events if frame.event == "stdout")
            asked = time.monotonic()
            web.proc.send_signal(signal.SIGTERM)
            rest = list(events)
            stream_ended = time.monotonic() - asked
        exit_code = web.proc.wait(30)
        stopped = time.monotonic() - asked
    finally:
        web.stop()
    assert [frame.event for frame in rest][-1:] == ["complete"], "the stream was cut before its `complete`"
    assert rest[-1].json["data"]["status"] == "interrupted"
    assert stream_ended < 5 and stopped < 10, (stream_ended, stopped)
    assert exit_code == 0
    assert processes_of(execution_id) == []  # Bolt's whole process group, `sleep` included
