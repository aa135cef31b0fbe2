"""Issue 11's least-privilege default policy, through a live server and the Bolt double."""

from __future__ import annotations

import pytest

TASK = "/api/tasks/run"


def _refused(response, policy: str) -> dict:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "policy_denied" and error["details"]["policy"] == policy, error
    return error


@pytest.mark.parametrize(
    "task, params",
    [
        ("puppet_agent::install", {"absolute_source": "http://localhost:1/x.rpm"}),
        ("package", {"action": "install", "name": "tree"}),
    ],
)
def test_policy_live_operator_is_refused_root_code_tasks(real_bolt_server, task, params):
    """Bug (issue 11, high): the default `tasks: allow "*"` let an operator run puppet_agent::install
    (any URL installed as root on every target), which the real Bolt ships; refused now, and audited."""
    live = real_bolt_server
    response = live.run(TASK, {"targets": ["localhost"], "task": task, "params": params}, headers=live.headers_for("operator"))
    _refused(response, "policy.roles.operator.tasks")
    admin = live.api("GET", f"/api/tasks/{task}")
    assert admin.status_code == 200, admin.text  # the task exists: it is the policy that refused it


def test_policy_live_operator_runs_project_tasks_and_package_status(server):
    operator = server.headers_for("operator")
    hello = server.run(TASK, {"targets": ["localhost"], "task": "demo::hello", "params": {"name": "x"}}, headers=operator, wait=True)
    assert hello.status_code == 200 and hello.json()["status"] == "success", hello.text
    status = server.run("/api/packages", {"targets": ["localhost"], "action": "status", "name": "bash"}, headers=operator)
    assert status.status_code == 202, status.text
    install = server.run("/api/packages", {"targets": ["localhost"], "action": "install", "name": "tree"}, headers=operator)
    _refused(install, "policy.roles.operator.tasks")
    admin = server.run("/api/packages", {"targets": ["localhost"], "action": "status", "name": "tree"})
    assert admin.status_code == 202, admin.text


def test_policy_live_run_as_and_option_words_are_refused_for_operators(server):
    """Bugs (issue 11): `runAs` was outside the policy; `systemctl status -H user@host x` passed a prefix rule."""
    operator = server.headers_for("operator")
    as_root = server.run("/api/commands", {"targets": ["localhost"], "command": "uptime", "runAs": "root"}, headers=operator)
    assert _refused(as_root, "policy.roles.operator.run_as")["details"]["runAs"]
    elsewhere = server.run(
        "/api/commands", {"targets": ["localhost"], "command": "systemctl status -H user@localhost x"}, headers=operator
    )
    _refused(elsewhere, "policy.roles.operator.commands")
