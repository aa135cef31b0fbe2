"""Bad input: a clear 400 naming the field, and no Bolt process spawned (issue 2)."""

from __future__ import annotations

import pytest


def _runs(server) -> int:
    return sum(1 for argv in server.invocations() if argv[0:2] in (["command", "run"], ["task", "run"]))


@pytest.mark.parametrize(
    "path, body, field, words",
    [
        ("/api/commands", {"targets": ["nosuchhost"], "command": "echo"}, "targets", "nosuchhost"),
        ("/api/commands", {"targets": ["localhost"], "command": "x" * 70000}, "command", "65536 bytes"),
        ("/api/commands", {"targets": ["localhost"], "command": "   "}, "command", "empty"),
        ("/api/commands", {"targets": ["localhost"], "command": "echo \x00"}, "command", "NUL"),
        ("/api/commands", {"targets": ["localhost"], "command": "--help"}, "command", "start with '-'"),
        ("/api/commands", {"targets": ["-i/etc/passwd"], "command": "id"}, "targets.0", "start with '-'"),
        ("/api/commands", {"targets": [], "command": "id"}, "targets", "between 1 and 1000"),
        ("/api/commands", {"targets": ["localhost"], "command": "id", "shell": "bash"}, "shell", "Unknown field"),
        ("/api/tasks/run", {"targets": ["localhost"], "task": "nosuch::task"}, "task", "unknown task"),
        ("/api/tasks/run", {"targets": ["localhost"], "task": "Bad Name"}, "task", "valid task name"),
        ("/api/tasks/run", {"targets": ["localhost"], "task": "demo::hello"}, "params.name", "missing required"),
        (
            "/api/tasks/run",
            {"targets": ["localhost"], "task": "demo::slow", "params": {"count": "ten"}},
            "params.count",
            "Integer",
        ),
        ("/api/packages", {"targets": ["localhost"], "action": "purge", "name": "tree"}, "action", "Must be one of"),
        ("/api/packages", {"targets": ["localhost"], "action": "install", "name": "-rf"}, "name", "must match"),
        ("/api/packages", {"targets": ["localhost"], "action": "install", "name": "tr ee"}, "name", "must match"),
        ("/api/puppet/runs", {"targets": ["localhost"], "environment": "prod; rm -rf /"}, "environment", "lower-case"),
        ("/api/puppet/runs", {"targets": ["localhost"], "tags": ["$(id)"]}, "tags.0", "Puppet tag"),
        # `^...$` alone would let a trailing newline through (past the task policy's prefix rules)
        ("/api/tasks/run", {"targets": ["localhost"], "task": "bolt_shim\n"}, "task", "valid task name"),
        ("/api/puppet/runs", {"targets": ["localhost"], "environment": "prod\n"}, "environment", "lower-case"),
        ("/api/packages", {"targets": ["localhost"], "action": "install", "name": "tree\n"}, "name", "must match"),
        ("/api/commands", {"targets": ["localhost"], "command": "id", "timeoutSeconds": 0}, "timeoutSeconds", "at least"),
    ],
)
def test_validation_rejects_with_field_and_spawns_nothing(server, path, body, field, words):
    before = _runs(server)
    response = server.run(path, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert words in " ".join(error["details"][field]) + error["message"], error
    assert _runs(server) == before


def test_validation_spawn_counter_sees_a_valid_run(server):
    before = _runs(server)
    assert server.run("/api/commands", {"targets": ["localhost"], "command": "true"}, wait=True).status_code == 200
    assert _runs(server) == before + 1


def test_validation_body_must_be_json_object(server):
    response = server.api("POST", "/api/commands", data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and "not valid JSON" in error["details"]["body"][0], error


def test_validation_rejected_request_changes_nothing(server):
    total = server.api("GET", "/api/executions").json()["total"]
    server.run("/api/commands", {"targets": ["nosuchhost"], "command": "echo"})
    assert server.api("GET", "/api/executions").json()["total"] == total


def test_validation_unknown_execution_is_404(server):
    for path in ("", "/events", "/output", "/stream"):
        response = server.api("GET", f"/api/executions/0123456789abcdef{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
