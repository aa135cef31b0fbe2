"""After an execution ends, nothing carrying its marker runs on (issue 10, shown equals happened).

Bug: a process a command detaches with `setsid` leaves bolt's process group, so killing the
group at the end missed it and it outlived its execution, although docs/architecture.md
said nothing does. Now every process still carrying BOLTDECK_EXECUTION_ID=<id> is killed
once bolt has exited: finished, cancelled or timed out alike.
"""

from __future__ import annotations

import os
import signal

import pytest

from ..conftest import SCENARIO_PROJECT
from .helpers import events_of, processes_of, wait_until

# Start `sleep 300` in a session of its own and go on only once it is there (sid == pid).
DETACH = (
    "setsid sleep 300 </dev/null >/dev/null 2>&1 & "
    'until [ "$(cut -d" " -f6 /proc/$!/stat)" = "$!" ]; do sleep 0.01; done;'
)
ENDS = {
    "finished": ({"command": f"{DETACH} echo detached"}, "success"),
    "cancelled": ({"command": f"{DETACH} sleep 60"}, "cancelled"),
    "timed_out": ({"command": f"{DETACH} sleep 60", "timeoutSeconds": 8}, "timed_out"),  # real Bolt starts in ~3 s
}


@pytest.fixture(params=["double", "real"])
def live(request, make_server):
    """A live server with the double, or with the real Bolt when BOLTDECK_TEST_REAL_BOLT names one."""
    if request.param == "double":
        return request.getfixturevalue("server")
    return make_server(bolt_bin=request.getfixturevalue("real_bolt"), bolt_project=str(SCENARIO_PROJECT))


def _detached_sleeps(execution_id: str) -> list[int]:
    """The execution's `sleep 300` processes (the ones the command detached)."""
    found = []
    for pid in processes_of(execution_id):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if cmdline.read() == b"sleep\0" + b"300\0":
                    found.append(pid)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("end", list(ENDS))
def test_process_cleanup_kills_what_a_command_detached_with_setsid(live, end):
    body, status = ENDS[end]
    response = live.run("/api/commands", {"targets": ["localhost"], "expertMode": True, **body})
    assert response.status_code == 202, response.text
    execution_id = response.json()["executionId"]
    try:
        if end != "finished":  # a finished run may be over before the test looks
            assert wait_until(lambda: _detached_sleeps(execution_id), 15), "nothing was detached"
        if end == "cancelled":
            assert live.api("POST", f"/api/executions/{execution_id}/cancel").status_code == 200
        execution = live.wait_final(execution_id, timeout=30)
        assert execution["status"] == status
        assert wait_until(lambda: processes_of(execution_id) == [], 3), "a detached process outlived its execution"
        notices = [e["data"]["text"] for e in events_of(live, execution_id) if e["type"] == "log"]
        assert any("left running after bolt ended" in text for text in notices), notices
    finally:
        for pid in processes_of(execution_id):  # when the test fails, leave no 300 s sleep behind
            os.kill(pid, signal.SIGKILL)
