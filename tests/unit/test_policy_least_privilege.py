"""Issue 11's policy findings: task parameters, the project's own tasks, `runAs`, option words."""

from __future__ import annotations

import pytest
from boltdeck.auth.policy import Policy
from boltdeck.errors import ConfigError, ForbiddenError

from .test_policy import command_allowed, denied, run, task_allowed


def overlay(role: str, section: dict) -> Policy:
    return Policy.from_mapping({"roles": {role: section}}, "test")


@pytest.mark.parametrize("action", ["install", "uninstall", "upgrade", None])
def test_policy_default_operator_package_task_is_status_only(action):
    """Bug (issue 11): with tasks allowed by name only, an operator could install any package as root."""
    params = {"action": action, "name": "bash"} if action else {"name": "bash"}
    assert not task_allowed(Policy.default(), "package", params=params)
    assert task_allowed(Policy.default(), "package", params={"action": "status", "name": "bash"})
    assert task_allowed(Policy.default(), "package", role="admin", params=params)


def test_policy_param_rule_compares_types_not_just_equality():
    """`True == 1` in Python; a rule pinning 1 must not admit true (nor "1")."""
    policy = overlay("operator", {"tasks": {"allow": [{"exact": "demo::x", "params": {"count": [1]}}]}})
    assert task_allowed(policy, "demo::x", params={"count": 1})
    for value in (True, "1", 1.0, [1]):
        assert not task_allowed(policy, "demo::x", params={"count": value}), value


def test_policy_param_rule_treats_an_absent_parameter_as_null():
    policy = overlay(
        "operator", {"tasks": {"allow": [{"exact": "demo::x", "params": {"version": [None, "1.2"]}}]}}
    )
    assert task_allowed(policy, "demo::x", params={})
    assert task_allowed(policy, "demo::x", params={"version": "1.2"})
    assert not task_allowed(policy, "demo::x", params={"version": "http://elsewhere/x.rpm"})


def test_policy_deny_rule_with_params_denies_only_those_values():
    policy = overlay(
        "operator", {"tasks": {"allow": "*", "deny": [{"exact": "package", "params": {"action": ["install"]}}]}}
    )
    assert task_allowed(policy, "package", params={"action": "status", "name": "x"})
    assert not task_allowed(policy, "package", params={"action": "install", "name": "x"})


def test_policy_project_rule_needs_the_project_name():
    """Without a known project name the `project` rule matches nothing (fails closed)."""
    with pytest.raises(ForbiddenError):
        run(Policy.default(), kind="task", task="demo::hello", project=None)
    run(Policy.default(), kind="task", task="demo::hello", project="demo")


@pytest.mark.parametrize(
    "command",
    ["systemctl status -H user@elsewhere x", "systemctl status --host=x nginx", "systemctl is-active -- -x", "systemctl status nginx -M x"],
)
def test_policy_prefix_rule_refuses_option_words(command):
    """Bug (issue 11): `systemctl status -H user@host x` passed the prefix rule and made the target SSH elsewhere."""
    assert not command_allowed(Policy.default(), command)


def test_policy_prefix_rule_may_allow_option_words_explicitly():
    policy = overlay("operator", {"commands": {"allow": [{"prefix": "journalctl -u", "options": True}]}})
    assert command_allowed(policy, "journalctl -u nginx --since today")
    assert not command_allowed(policy, "journalctl -u nginx; id")  # options do not admit shell syntax
    strict = overlay("operator", {"commands": {"allow": [{"prefix": "journalctl -u"}]}})
    assert command_allowed(strict, "journalctl -u nginx")
    assert not command_allowed(strict, "journalctl -u nginx --since today")


def test_policy_run_as_is_refused_for_operators_by_default():
    """Bug (issue 11): `runAs` was outside the policy; an operator ran any allowed command as root."""
    error = denied(Policy.default(), shell_command="uptime", run_as="root")
    assert error.code == "policy_denied"
    assert error.details["policy"] == "policy.roles.operator.run_as"
    assert error.details["runAs"] == ["not allowed by policy.roles.operator.run_as"]
    run(Policy.default(), shell_command="uptime")  # without runAs it runs
    run(Policy.default(), "admin", shell_command="uptime", run_as="root")


def test_policy_run_as_names_allowed_users():
    policy = overlay("operator", {"run_as": ["deploy"]})
    run(policy, shell_command="uptime", run_as="deploy")
    assert denied(policy, shell_command="uptime", run_as="root").details["policy"] == "policy.roles.operator.run_as"


@pytest.mark.parametrize(
    "section, where",
    [
        ({"run_as": "root"}, "policy.roles.operator.run_as"),
        ({"run_as": [""]}, "policy.roles.operator.run_as"),
        ({"tasks": {"allow": [{"exact": "x", "params": {"action": "status"}}]}}, "policy.roles.operator.tasks.allow[0].params.action"),
        ({"tasks": {"allow": [{"exact": "x", "params": []}]}}, "policy.roles.operator.tasks.allow[0].params"),
        ({"tasks": {"allow": [{"project": "yes"}]}}, "policy.roles.operator.tasks.allow[0]"),
        ({"commands": {"allow": [{"project": True}]}}, "policy.roles.operator.commands.allow[0]"),
        ({"commands": {"allow": [{"exact": "x", "params": {"a": [1]}}]}}, "policy.roles.operator.commands.allow[0]"),
        ({"commands": {"allow": [{"prefix": "x", "options": "yes"}]}}, "policy.roles.operator.commands.allow[0].options"),
        ({"tasks": {"allow": [{"exact": "x", "prefix": "y"}]}}, "policy.roles.operator.tasks.allow[0]"),
    ],
)
def test_policy_new_rule_fields_are_checked(section, where):
    with pytest.raises(ConfigError) as caught:
        overlay("operator", section)
    assert caught.value.message.startswith(where + ":"), caught.value.message
