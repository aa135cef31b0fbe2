"""`bolt apply` requests: their schema, their argv, and the run policy's `apply` section."""

from __future__ import annotations

import pytest

from boltdeck.auth.policy import Policy
from boltdeck.bolt import argv as bolt_argv
from boltdeck.errors import ConfigError, ForbiddenError, ValidationError
from boltdeck.schemas.requests import ApplyRunSchema, load


def check(policy: Policy, role: str, source: str | None, noop: bool) -> None:
    policy.check_run(role, kind="apply", shell_command=None, task=None, targets=["web1"], expert_mode=False,
                     expand=lambda names: ["web1"], apply_source=source, noop=noop)


def test_the_default_lets_operators_apply_project_manifests_in_noop_only():
    policy = Policy.default()
    check(policy, "operator", "manifests/site.pp", noop=True)
    for source, noop in (("manifests/site.pp", False), ("site.pp", True), ("notify{'x':}", True), (None, True)):
        with pytest.raises(ForbiddenError) as caught:
            check(policy, "operator", source, noop)
        assert caught.value.details["policy"] == "policy.roles.operator.apply"
    check(policy, "admin", "notify{'x':}", noop=False)


def test_an_apply_rule_set_is_read_from_the_config_and_checked():
    policy = Policy.from_mapping({"roles": {"operator": {"apply": {
        "allow": [{"regex": "notify\\{'[a-z]+':\\}"}], "deny": [{"prefix": "manifests/secret"}]}}}}, "test")
    check(policy, "operator", "notify{'hello':}", noop=False)
    with pytest.raises(ForbiddenError):
        check(policy, "operator", "manifests/secret/x.pp", noop=True)
    with pytest.raises(ConfigError, match="noop_only"):
        Policy.from_mapping({"roles": {"operator": {"apply": {"allow": [{"exact": "x", "noop_only": "yes"}]}}}}, "t")
    with pytest.raises(ConfigError):  # noop_only belongs to apply rules only
        Policy.from_mapping({"roles": {"operator": {"commands": {"allow": [{"exact": "x", "noop_only": True}]}}}}, "t")


def test_an_apply_request_names_exactly_one_source_and_a_safe_manifest_path():
    assert load(ApplyRunSchema(), {"targets": ["web1"], "code": "notify{'x':}"})["noop"] is False
    for body in ({"targets": ["web1"]}, {"targets": ["web1"], "code": "notify{'x':}", "manifest": "m.pp"},
                 {"targets": ["web1"], "manifest": "../outside.pp"}, {"targets": ["web1"], "manifest": "/etc/x.pp"},
                 {"targets": ["web1"], "manifest": "manifests/site.rb"}, {"targets": ["web1"], "manifest": "-e.pp"},
                 {"targets": ["web1"], "code": "--help"}, {"targets": ["web1"], "code": "a\x00b"}):
        with pytest.raises(ValidationError):
            load(ApplyRunSchema(), body)


def test_apply_argv_carries_the_source_the_run_flags_and_noop():
    argv = bolt_argv.apply_run("bolt", ["web1"], "/srv/project", code="notify{'x':}", noop=True)
    assert argv[:4] == ["bolt", "apply", "--execute", "notify{'x':}"] and argv[-1] == "--noop"
    assert "--stream" in argv and argv[argv.index("--format") + 1] == "json"
    assert bolt_argv.apply_run("bolt", ["web1"], "/srv/project", manifest="manifests/site.pp")[:3] == [
        "bolt", "apply", "manifests/site.pp"]
