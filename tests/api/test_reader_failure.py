"""A failure while handling bolt's output is recorded, and bolt still finishes (issue 10, failures vanish).

Bug: an exception in a pipe-reader greenlet closed the pipe; Bolt then died writing into it
(SIGPIPE) and the run was recorded as an ordinary failure with no reason at all.

The failure here is a real one, not an injected one: a task whose JSON result carries a list
as `exit_code`, which Bolt (real and double alike) passes through and the results table
cannot store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..conftest import SCENARIO_PROJECT
from .helpers import events_of

# The first of the two runs answers at once; the other prints a line a second later, after the
# first result has failed to be recorded.
ODD_TASK = """#!/bin/sh
if mkdir "$PT_lock" 2>/dev/null; then
  echo '{"exit_code": [1], "note": "first"}'
else
  sleep 1
  echo "late line"
  echo '{"exit_code": [1], "note": "second"}'
fi
"""
ODD_METADATA = '{"description": "An odd result", "parameters": {"lock": {"type": "String[1]"}}}'


@pytest.fixture
def odd_project(tmp_path) -> Path:
    """The scenario project with one task, demo::odd, whose result the store refuses."""
    project = tmp_path / "project"
    (project / "tasks").mkdir(parents=True)
    for name in ("bolt-project.yaml", "inventory.yaml"):
        shutil.copy(SCENARIO_PROJECT / name, project / name)
    (project / "tasks" / "odd.json").write_text(ODD_METADATA)
    script = project / "tasks" / "odd.sh"
    script.write_text(ODD_TASK)
    script.chmod(0o755)
    return project


@pytest.fixture(params=["double", "real"])
def bolt_settings(request) -> dict[str, str]:
    if request.param == "double":
        return {}
    return {"bolt_bin": request.getfixturevalue("real_bolt")}


def test_reader_failure_is_an_error_event_naming_the_exception(make_server, odd_project, bolt_settings, tmp_path):
    live = make_server(bolt_project=str(odd_project), **bolt_settings)
    params = {"lock": str(tmp_path / "first-answered")}
    body = {"targets": ["localhost", "local2"], "task": "demo::odd", "params": params, "expertMode": True}
    response = live.run("/api/tasks/run", body)
    assert response.status_code == 202, response.text
    execution_id = response.json()["executionId"]
    execution = live.wait_final(execution_id, timeout=60)
    events = events_of(live, execution_id)
    errors = [e["data"] for e in events if e["type"] == "error"]
    assert [e["kind"] for e in errors] == ["boltdeck/output-error"], errors
    (error,) = errors
    assert error["details"]["stream"] == "stdout"
    assert error["details"]["exception"] and error["details"]["exception"] in error["message"]
    assert execution["exitCode"] == 0, "bolt did not finish normally (a closed pipe kills it)"
    late = [e["seq"] for e in events if e["type"] == "stdout" and "late line" in e["data"]["text"]]
    assert late and late[0] > min(e["seq"] for e in events if e["type"] == "error"), "output after the failure was lost"
    late_result = [r for r in execution["results"] if "late line" in (r["stdout"] or "")]
    assert late_result, "the result after the failure was not recorded"
    assert events[-1]["type"] == "complete"
