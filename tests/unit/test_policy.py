"""The run policy: rule kinds, the default policy, overlays, config errors and reloading."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
from boltdeck.auth.policy import DEFAULT_POLICY_YAML, Policy, PolicySource, Rule
from boltdeck.bolt import argv as bolt_argv
from boltdeck.errors import ConfigError, ForbiddenError
from hypothesis import given
from hypothesis import strategies as st

README = Path(__file__).resolve().parents[2] / "README.md"

# Shell syntax that could chain, substitute, redirect or glob, plus quoting and other
# characters a plain argument never needs.
SHELL_METACHARACTERS = [";", "&", "|", "`", "$", "<", ">", "(", ")", "\n", "*", "?"]
OTHER_UNSAFE = ["'", '"', "\\", "{", "}", "!", "#", "~", "\r", "\x00", "[", "]"]


def run(policy: Policy, role: str = "operator", **request) -> None:
    """Call check_run with a command-run request unless told otherwise."""
    request.setdefault("kind", "command")
    request.setdefault("shell_command", None)
    request.setdefault("task", None)
    request.setdefault("targets", ["web1"])
    request.setdefault("expert_mode", False)
    request.setdefault("expand", lambda names: list(names))
    policy.check_run(role, **request)


def denied(policy: Policy, role: str = "operator", **request) -> ForbiddenError:
    with pytest.raises(ForbiddenError) as caught:
        run(policy, role, **request)
    return caught.value


def command_allowed(policy: Policy, command: str, role: str = "operator") -> bool:
    try:
        run(policy, role, shell_command=command)
    except ForbiddenError as exc:
        assert exc.code == "policy_denied"
        assert exc.details["policy"] == f"policy.roles.{role}.commands"
        return False
    return True


def task_allowed(policy: Policy, task: str, role: str = "operator", params: dict | None = None) -> bool:
    try:
        run(policy, role, kind="task", task=task, params=params, project="demo")
    except ForbiddenError as exc:
        assert exc.code == "policy_denied"
        assert exc.details["policy"] == f"policy.roles.{role}.tasks"
        return False
    return True


def config_error(data) -> str:
    with pytest.raises(ConfigError) as caught:
        Policy.from_mapping(data, "test")
    return caught.value.message


# --- the default policy -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["uptime", "systemctl status nginx", "systemctl status", "id", "df -h"])
def test_policy_default_operator_runs_diagnostics(command):
    assert command_allowed(Policy.default(), command)


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /",
        "systemctl stop nginx",
        "systemctl statusx",
        "uptime; id",
        "uptime ",
        "systemctl status nginx; rm -rf /",
        "systemctl status $(id)",
        "systemctl status nginx && reboot",
        "systemctl status nginx | sh",
        "systemctl status `id`",
        "systemctl status nginx\nreboot",
        "systemctl status nginx > /etc/passwd",
        "systemctl status nginx < /dev/zero",
        "systemctl status ngin?",
        "systemctl status *",
        "puppet agent --test --server=x",
        "puppet agent --test --color=false --detailed-exitcodes --server=x",
        "puppet agent --test --color=false --detailed-exitcodes; id",
        "puppet agent --test --color=false --detailed-exitcodes --environment 'x; id'",
        "",
    ],
)
def test_policy_default_operator_refuses_other_commands(command):
    assert not command_allowed(Policy.default(), command)


@pytest.mark.parametrize(
    "noop, environment, tags, debug",
    list(itertools.product(
        [False, True],
        [None, "production", "dev_2"],
        [(), ("web",), ("role::web", "profile::base.x", "a-b", "x_1")],
        [False, True],
    )),
)
def test_policy_default_operator_runs_every_puppet_agent_command(noop, environment, tags, debug):
    command = bolt_argv.puppet_agent_command(noop, environment, tags, debug)
    assert command_allowed(Policy.default(), command), command


@given(
    noop=st.booleans(),
    environment=st.none() | st.from_regex(bolt_argv.PUPPET_ENVIRONMENT, fullmatch=True),
    tags=st.lists(st.from_regex(bolt_argv.PUPPET_TAG, fullmatch=True), max_size=5),
    debug=st.booleans(),
)
def test_policy_default_operator_runs_puppet_agent_command_for_any_valid_values(noop, environment, tags, debug):
    command = bolt_argv.puppet_agent_command(noop, environment, tags, debug)
    assert command_allowed(Policy.default(), command), command


@given(
    before=st.text(max_size=20),
    unsafe=st.sampled_from(SHELL_METACHARACTERS + OTHER_UNSAFE),
    after=st.text(max_size=20),
)
def test_policy_default_refuses_shell_syntax_after_a_prefix(before, unsafe, after):
    assert not command_allowed(Policy.default(), f"systemctl status {before}{unsafe}{after}")


@given(words=st.lists(st.from_regex(r"[A-Za-z0-9._@:=][A-Za-z0-9._@:=-]{0,11}", fullmatch=True), min_size=1, max_size=4))
def test_policy_default_runs_plain_arguments_after_a_prefix(words):
    assert command_allowed(Policy.default(), "systemctl status " + " ".join(words))


@pytest.mark.parametrize("command", ["rm -rf /", "reboot; id", "systemctl stop nginx"])
def test_policy_default_admin_runs_anything(command):
    policy = Policy.default()
    run(policy, "admin", shell_command=command)
    run(policy, "admin", kind="task", task="bolt_shim::command")
    run(policy, "admin", shell_command=command, expert_mode=True)


def test_policy_viewer_is_refused_by_role_whatever_the_rules_say():
    policy = Policy.from_mapping(
        {"expert_mode_roles": ["viewer"], "roles": {"viewer": {"commands": {"allow": "*"}, "tasks": {"allow": "*"}}}},
        "test",
    )
    for request in ({"shell_command": "uptime"}, {"kind": "task", "task": "demo::hello"}):
        error = denied(policy, "viewer", **request)
        assert error.code == "forbidden"
        assert error.details == {"role": ["viewer"]}
    assert denied(Policy.default(), None, shell_command="uptime").code == "forbidden"


@pytest.mark.parametrize("task", ["demo", "demo::hello", "demo::bolt_shim", "facts"])
def test_policy_default_operator_runs_the_projects_tasks_and_facts(task):
    assert task_allowed(Policy.default(), task)


@pytest.mark.parametrize(
    "task", ["bolt_shim::command", "bolt_shim::script", "bolt_shim", "bolt_shimx", "puppet_agent::install", "demox::x"]
)
def test_policy_default_operator_tasks_are_an_allowlist(task):
    """Bug (issue 11, high): `tasks: allow "*"` admitted puppet_agent::install, which installs a
    package from any URL as root on every target."""
    assert not task_allowed(Policy.default(), task)
    assert task_allowed(Policy.default(), task, role="admin")


def test_policy_denial_names_the_rule_and_the_field():
    error = denied(Policy.default(), shell_command="rm -rf /")
    assert error.status == 403
    assert error.details["command"] == ["not allowed by policy.roles.operator.commands"]
    assert "policy.roles.operator.commands" in error.message and "'rm -rf /'" in error.message
    error = denied(Policy.default(), kind="task", task="bolt_shim::command", project="demo")
    assert "no allow rule matches" in error.message
    assert error.details["task"] == ["not allowed by policy.roles.operator.tasks"]


# --- rule kinds ---------------------------------------------------------------------------


def test_policy_exact_rule_matches_the_whole_string_only():
    rule = Rule("exact", "uptime")
    assert rule.matches("uptime", " ")
    for text in ("uptime ", " uptime", "uptime -p", "uptim", "UPTIME", "uptime\n"):
        assert not rule.matches(text, " "), text


def test_policy_prefix_rule_for_commands_ends_on_a_word_boundary():
    rule = Rule("prefix", "systemctl status")
    assert rule.matches("systemctl status", " ")
    assert rule.matches("systemctl status nginx sshd", " ")
    assert not rule.matches("systemctl statusx", " ")
    assert not rule.matches("systemctl stat", " ")
    assert not rule.matches("xsystemctl status nginx", " ")


def test_policy_prefix_rule_for_tasks_ends_on_a_module_boundary():
    rule = Rule("prefix", "demo")
    assert rule.matches("demo", "::")
    assert rule.matches("demo::x", "::")
    assert rule.matches("demo::x::y", "::")
    assert not rule.matches("demox", "::")
    assert not rule.matches("demo_x::y", "::")
    assert not rule.matches("ademo::x", "::")


def test_policy_regex_rule_must_match_the_whole_string():
    policy = Policy.from_mapping({"roles": {"operator": {"commands": {"allow": [{"regex": "ls( -l)?"}]}}}}, "test")
    assert command_allowed(policy, "ls")
    assert command_allowed(policy, "ls -l")
    for command in ("ls; rm -rf /", "ls -l; id", "xls", "ls -la", "ls\n", "ls\nid"):
        assert not command_allowed(policy, command), command


def test_policy_regex_alternation_is_anchored_as_a_whole():
    policy = Policy.from_mapping({"roles": {"operator": {"commands": {"allow": [{"regex": "ls|pwd"}]}}}}, "test")
    assert command_allowed(policy, "ls") and command_allowed(policy, "pwd")
    assert not command_allowed(policy, "ls; pwd")
    assert not command_allowed(policy, "pwd; id")


def test_policy_deny_prefix_matches_commands_with_shell_syntax():
    """Bug: a deny prefix applied only when the rest was plain words, so `; true` slipped past it."""
    policy = Policy.from_mapping(
        {"roles": {"operator": {"commands": {"allow": "*", "deny": [{"prefix": "systemctl stop"}]}}}}, "test"
    )
    assert command_allowed(policy, "systemctl status nginx")
    assert not command_allowed(policy, "systemctl stop nginx")
    assert not command_allowed(policy, "systemctl stop nginx; true")
    assert not command_allowed(policy, "systemctl stop $(echo nginx)")


def test_policy_deny_exact_and_regex_rules_win_over_allow_rules():
    policy = Policy.from_mapping(
        {
            "roles": {
                "operator": {
                    "commands": {
                        "allow": [{"prefix": "cat"}],
                        "deny": [{"exact": "cat /etc/shadow"}, {"regex": "cat /root/.*"}],
                    }
                }
            }
        },
        "test",
    )
    assert command_allowed(policy, "cat /etc/hosts")
    assert not command_allowed(policy, "cat /etc/shadow")
    assert not command_allowed(policy, "cat /root/.ssh/id_rsa")


# --- overlays, expert mode, targets ---------------------------------------------------------


def test_policy_role_section_replaces_only_the_keys_it_gives():
    policy = Policy.from_mapping({"roles": {"operator": {"commands": {"allow": [{"exact": "hostname"}]}}}}, "test")
    assert command_allowed(policy, "hostname")
    assert not command_allowed(policy, "uptime")  # the default commands are replaced
    assert task_allowed(policy, "demo::hello")  # the default tasks are kept
    assert not task_allowed(policy, "bolt_shim::command")
    assert policy.roles["operator"].targets is None
    assert command_allowed(policy, "rm -rf /", role="admin")  # other roles keep the default
    assert policy.source == "test"
    assert policy.document["roles"]["operator"]["tasks"] == Policy.default().document["roles"]["operator"]["tasks"]


def test_policy_empty_role_section_keeps_the_default():
    policy = Policy.from_mapping({"roles": {"operator": None}}, "test")
    assert command_allowed(policy, "uptime")
    assert not command_allowed(policy, "rm -rf /")


def test_policy_expert_mode_only_for_expert_mode_roles():
    run(Policy.default(), shell_command="uptime", expert_mode=True)
    policy = Policy.from_mapping({"expert_mode_roles": ["admin"]}, "test")
    error = denied(policy, shell_command="uptime", expert_mode=True)
    assert error.code == "policy_denied"
    assert error.details["policy"] == "policy.expert_mode_roles"
    assert "expertMode" in error.details
    run(policy, shell_command="uptime", expert_mode=False)
    run(policy, "admin", shell_command="uptime", expert_mode=True)


def test_policy_targets_restrict_where_a_role_may_run():
    groups = {"web": ["web1", "web2"], "db": ["db1"]}
    expand = lambda names: [t for n in names for t in groups.get(n, [n])]  # noqa: E731
    policy = Policy.from_mapping({"roles": {"operator": {"targets": ["web", "db1"]}}}, "test")
    run(policy, shell_command="uptime", targets=["web1", "web2", "db1"], expand=expand)
    run(policy, kind="task", task="demo::hello", targets=["web2"], expand=expand, project="demo")
    error = denied(policy, shell_command="uptime", targets=["web1", "mail1", "db2"], expand=expand)
    assert error.code == "policy_denied"
    assert error.details["policy"] == "policy.roles.operator.targets"
    assert error.details["targets"] == [
        "not allowed by policy.roles.operator.targets: db2",
        "not allowed by policy.roles.operator.targets: mail1",
    ]
    assert "db2" in error.message and "mail1" in error.message and "web1" not in error.message


def test_policy_targets_star_allows_every_target_without_expanding():
    def expand(names):
        raise AssertionError("expand must not be called when every target is allowed")

    run(Policy.default(), shell_command="uptime", targets=["anything", "else"], expand=expand)


# --- config errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, path",
    [
        ({"roles": {"superuser": {}}}, "policy.roles.superuser"),
        ({"colour": "blue"}, "policy"),
        ({"roles": {"operator": {"command": {"allow": "*"}}}}, "policy.roles.operator"),
        ({"roles": {"operator": {"commands": {"allow": "*", "permit": []}}}}, "policy.roles.operator.commands"),
        (
            {"roles": {"operator": {"commands": {"allow": [{"exact": "a"}, {"exact": "b"}, {"exact": "c", "prefix": "d"}]}}}},
            "policy.roles.operator.commands.allow[2]",
        ),
        ({"roles": {"operator": {"commands": {"allow": [{"regex": "("}]}}}}, "policy.roles.operator.commands.allow[0]"),
        ({"roles": {"operator": {"tasks": {"deny": [{"glob": "x*"}]}}}}, "policy.roles.operator.tasks.deny[0]"),
        ({"roles": {"operator": {"commands": {"allow": [{"exact": " "}]}}}}, "policy.roles.operator.commands.allow[0]"),
        ({"roles": {"operator": {"commands": {"allow": ["uptime"]}}}}, "policy.roles.operator.commands.allow[0]"),
        ({"roles": {"operator": {"commands": {"allow": "all"}}}}, "policy.roles.operator.commands.allow"),
        ({"roles": {"operator": {"tasks": {"allow": {"exact": "x"}}}}}, "policy.roles.operator.tasks.allow"),
        ({"roles": {"operator": {"targets": "web1"}}}, "policy.roles.operator.targets"),
        ({"roles": {"operator": {"targets": ["web1", ""]}}}, "policy.roles.operator.targets"),
        ({"expert_mode_roles": ["operator", "root"]}, "policy.expert_mode_roles"),
        ({"expert_mode_roles": "admin"}, "policy.expert_mode_roles"),
        ({"roles": ["operator"]}, "policy.roles"),
        (["roles"], "policy"),
    ],
)
def test_policy_config_errors_name_the_path(data, path):
    message = config_error(data)
    assert message.startswith(f"{path}: "), message


def test_policy_config_error_for_unknown_role_lists_the_roles():
    assert "viewer, operator, admin" in config_error({"roles": {"root": {}}})


def test_policy_config_error_for_bad_regex_says_why():
    assert "invalid regular expression" in config_error(
        {"roles": {"admin": {"commands": {"allow": [{"regex": "[a-"}]}}}}
    )


# --- PolicySource -------------------------------------------------------------------------


def write(path: Path, text: str, bump: int) -> None:
    """Write `text` and move its mtime `bump` seconds on, so a reload is seen on coarse clocks too."""
    path.write_text(text, encoding="utf-8")
    stamp = 1_700_000_000 + bump
    os.utime(path, (stamp, stamp))


ONLY_HOSTNAME = """\
log_level: INFO
policy:
  roles:
    operator:
      commands:
        allow:
          - exact: hostname
"""


def test_policy_source_reads_the_policy_section(tmp_path):
    config = tmp_path / "boltdeck.yaml"
    write(config, ONLY_HOSTNAME, 0)
    source = PolicySource(str(config))
    policy = source.current()
    assert policy.source == str(config)
    assert command_allowed(policy, "hostname")
    assert not command_allowed(policy, "uptime")
    assert source.error is None
    assert source.current() is policy  # unchanged file: not read again


def test_policy_source_sees_a_rewrite_on_the_next_current(tmp_path):
    config = tmp_path / "boltdeck.yaml"
    write(config, ONLY_HOSTNAME, 0)
    source = PolicySource(str(config))
    assert not command_allowed(source.current(), "uptime")
    write(config, ONLY_HOSTNAME.replace("hostname", "uname -a"), 10)  # same size: only the mtime moves
    assert command_allowed(source.current(), "uname -a")
    assert not command_allowed(source.current(), "hostname")
    write(config, ONLY_HOSTNAME.replace("- exact: hostname", "- {prefix: uname, options: true}"), 20)
    assert command_allowed(source.current(), "uname -r")


def test_policy_source_keeps_the_last_good_policy_after_a_broken_rewrite(tmp_path):
    config = tmp_path / "boltdeck.yaml"
    write(config, ONLY_HOSTNAME, 0)
    source = PolicySource(str(config))
    good = source.current()
    write(config, ONLY_HOSTNAME.replace("exact: hostname", "regex: '('"), 10)
    assert source.current() is good
    assert "policy.roles.operator.commands.allow[0]" in source.error
    assert "keeping the last good policy" in source.error
    assert source.current() is good  # still broken: no re-read, same error
    assert source.error is not None
    write(config, ONLY_HOSTNAME.replace("hostname", "uptime"), 20)
    assert command_allowed(source.current(), "uptime")
    assert source.error is None


def test_policy_source_keeps_the_last_good_policy_after_broken_yaml(tmp_path):
    config = tmp_path / "boltdeck.yaml"
    write(config, ONLY_HOSTNAME, 0)
    source = PolicySource(str(config))
    write(config, "policy: [unclosed\n", 10)
    assert command_allowed(source.current(), "hostname")
    assert str(config) in source.error


def test_policy_source_without_policy_section_gives_the_default(tmp_path):
    config = tmp_path / "boltdeck.yaml"
    write(config, "log_level: INFO\n", 0)
    policy = PolicySource(str(config)).current()
    assert policy.source == "default"
    assert command_allowed(policy, "uptime")
    assert not command_allowed(policy, "rm -rf /")
    assert policy.document == Policy.default().document


def test_policy_source_broken_at_start_raises(tmp_path):
    config = tmp_path / "boltdeck.yaml"
    write(config, "policy:\n  roles:\n    root: {}\n", 0)
    with pytest.raises(ConfigError, match=r"policy\.roles\.root"):
        PolicySource(str(config))


def test_policy_source_without_file_gives_the_default():
    source = PolicySource(None)
    assert source.current().source == "default"
    assert command_allowed(source.current(), "uptime")


# --- README -------------------------------------------------------------------------------


def test_policy_readme_shows_the_default_policy():
    readme = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(# The policy of a fresh install\..*?)^```$", readme, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "README.md needs one ```yaml block starting with '# The policy of a fresh install.'"
    assert blocks[0] == DEFAULT_POLICY_YAML


# --- plans (issue 17) ---------------------------------------------------------------------


def plan_allowed(policy: Policy, plan: str, role: str = "operator", params: dict | None = None) -> bool:
    try:
        run(policy, role, kind="plan", plan=plan, params=params, project="demo")
    except ForbiddenError as exc:
        assert exc.code == "policy_denied" and exc.details["plan"] == [f"not allowed by policy.roles.{role}.plans"]
        return False
    return True


@pytest.mark.parametrize("plan", ["demo::steps", "demo", "canary", "aggregate::count", "facts", "reboot", "demox::x"])
def test_policy_default_operator_runs_only_the_projects_own_plans(plan):
    """A plan runs whatever its code says: `canary` runs any command it is given."""
    assert plan_allowed(Policy.default(), plan) == (plan in ("demo::steps", "demo"))
    assert plan_allowed(Policy.default(), plan, role="admin")


def test_policy_plan_rules_pin_parameters_like_task_rules():
    policy = Policy.from_mapping(
        {"roles": {"operator": {"plans": {"allow": [{"exact": "facts"}, {"exact": "canary", "params": {"command": ["uptime"]}}]}}}},
        "test",
    )
    assert plan_allowed(policy, "facts") and plan_allowed(policy, "canary", params={"command": "uptime"})
    assert not plan_allowed(policy, "canary", params={"command": "rm -rf /"})
    assert not plan_allowed(policy, "demo::steps"), "a plans section replaces the default one"
    error = config_error({"roles": {"operator": {"plans": {"allow": [{"exact": "x", "bogus": 1}]}}}})
    assert error.startswith("policy.roles.operator.plans.allow[0]: a rule is one of")
