"""Roles, permissions and the run policy: which commands, tasks and targets each role may use.

The policy lives in the `policy:` section of the YAML config file (BOLTDECK_CONFIG) and is read
again whenever that file changes, so an admin edits it without a restart. A section given for a
role replaces that part of the default below (commands, tasks, targets), role by role.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import yaml

from ..errors import ConfigError, ForbiddenError

log = logging.getLogger(__name__)

ROLES = ("viewer", "operator", "admin")
# What each permission a route declares needs; "public" routes need nobody.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "run": frozenset({"operator", "admin"}),
    "admin": frozenset({"admin"}),
}

# After a `prefix` rule, the rest of a command may hold plain words only: no shell syntax that
# could chain, substitute, redirect or glob (`;`, `&&`, `|`, `$(...)`, backquotes, `>`, `*`, ...).
PLAIN_ARGUMENTS = re.compile(r"[A-Za-z0-9 \t._,:/=+@%-]*")

DEFAULT_POLICY_YAML = """\
# The policy of a fresh install. A role's section in your config replaces the same part here.
expert_mode_roles: [operator, admin]
roles:
  viewer: {}                # viewers run nothing, whatever rules they are given
  operator:
    commands:               # read-only diagnostics, and the Puppet agent run the puppet route builds
      allow:
        - exact: uptime
        - exact: hostname
        - exact: hostname -f
        - exact: whoami
        - exact: id
        - exact: date
        - exact: uname -a
        - exact: df -h
        - exact: free -m
        - exact: ip addr
        - exact: cat /etc/os-release
        - prefix: systemctl status
        - prefix: systemctl is-active
        - prefix: systemctl is-enabled
        - regex: "puppet agent --test --color=false --detailed-exitcodes( --noop)?( --environment [a-z0-9_]+)?( --tags [a-z0-9_:.,-]+)?( --debug)?"
    tasks:                  # an allowlist: a task's parameters are its attack surface
      allow:
        - project: true     # the Bolt project's own tasks (NAME and NAME::*, NAME from bolt-project.yaml)
        - exact: facts
        - exact: package
          params: {action: [status]}
        - exact: service
          params: {action: [status]}
    apply:                  # `bolt apply`: the project's manifests under manifests/, and only in noop
      allow:
        - prefix: manifests
          noop_only: true
    plans:                  # the project's own plans: a plan runs whatever its code says, so
      allow:                # only the plans the project's authors wrote (not e.g. canary, which
        - project: true     # runs any command it is given)
    targets: "*"
    run_as: []              # no `runAs`: commands run as the inventory's user
  admin:
    commands: {allow: "*"}
    tasks: {allow: "*"}
    apply: {allow: "*"}
    plans: {allow: "*"}
    targets: "*"
    run_as: "*"
"""


ROLE_KEYS = {"commands", "tasks", "apply", "plans", "targets", "run_as"}
RULE_KINDS = ("exact", "prefix", "regex", "project")
COMMAND_RULE_KEYS = frozenset({"options"})
TASK_RULE_KEYS = frozenset({"params"})
# An apply rule matches a manifest's project-relative path (`prefix` ends on a `/`) or inline code.
APPLY_RULE_KEYS = frozenset({"noop_only"})


def role_allows(role: str | None, permission: str) -> bool:
    return permission == "public" or role in PERMISSIONS.get(permission, ())


@dataclass(frozen=True)
class Rule:
    """One rule: `exact` text, `prefix` ending on a word boundary, a `regex` that must match whole,
    or the Bolt `project`'s own tasks; a task rule may also pin parameter values (`params`)."""

    kind: str
    pattern: str
    compiled: re.Pattern | None = None
    params: Mapping[str, tuple[Any, ...]] | None = None  # parameter -> allowed values (absent = null)
    options: bool = False  # may the words after a command `prefix` start with "-"
    noop_only: bool = False  # an apply rule that covers noop runs only

    def matches(
        self,
        text: str,
        separator: str,
        plain_rest: bool = False,
        params: Mapping[str, Any] | None = None,
        project: str | None = None,
        noop: bool = False,
    ) -> bool:
        """Whether the rule covers `text` (and its task `params`, or an apply's `noop`); `plain_rest`
        (allow rules on commands) also requires that what follows a prefix is plain words and,
        unless the rule says `options: true`, no option words. Deny rules match a prefix whatever follows."""
        if self.noop_only and not noop:
            return False
        return self._matches_name(text, separator, plain_rest, project) and self._matches_params(params or {})

    def _matches_name(self, text: str, separator: str, plain_rest: bool, project: str | None) -> bool:
        if self.kind == "exact":
            return text == self.pattern
        if self.kind == "project":
            return project is not None and (text == project or text.startswith(project + separator))
        if self.kind == "prefix":
            if text == self.pattern:
                return True
            return text.startswith(self.pattern + separator) and (
                not plain_rest or _plain_words(text[len(self.pattern) :], self.options)
            )
        return self.compiled.fullmatch(text) is not None

    def _matches_params(self, given: Mapping[str, Any]) -> bool:
        if self.params is None:
            return True
        return all(_one_of(given.get(name), allowed) for name, allowed in self.params.items())

    def describe(self) -> str:
        name = "the project's own tasks" if self.kind == "project" else f"{self.kind} {self.pattern!r}"
        if self.params is not None:
            name += " with " + ", ".join(f"{k} in {list(v)}" for k, v in self.params.items())
        return name + (" (noop only)" if self.noop_only else "")


def _plain_words(rest: str, options: bool) -> bool:
    """Plain words only; an option word (`-H host`) only where the rule allows options."""
    if PLAIN_ARGUMENTS.fullmatch(rest) is None:
        return False
    return options or not any(word.startswith("-") for word in rest.split())


def _one_of(value: Any, allowed: tuple[Any, ...]) -> bool:
    # `True == 1` in Python: compare types too, so `true` never passes for `1` (or the reverse)
    return any(type(value) is type(choice) and value == choice for choice in allowed)


@dataclass(frozen=True)
class RuleSet:
    """Allowed unless a deny rule matches; then allowed if `allow` is "*" or an allow rule matches."""

    allow_any: bool = False
    allow: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()

    def permits(
        self,
        text: str,
        separator: str,
        params: Mapping[str, Any] | None = None,
        project: str | None = None,
        noop: bool = False,
    ) -> tuple[bool, str]:
        """(allowed, why) for a command, a task name with its parameters, or what an apply applies."""
        for rule in self.deny:
            if rule.matches(text, separator, params=params, project=project, noop=noop):
                return False, f"denied by rule {rule.describe()}"
        if self.allow_any:
            return True, "any is allowed"
        for rule in self.allow:
            if rule.matches(text, separator, plain_rest=separator == " ", params=params, project=project, noop=noop):
                return True, f"allowed by rule {rule.describe()}"
        return False, "no allow rule matches"


@dataclass(frozen=True)
class RolePolicy:
    commands: RuleSet = RuleSet()
    tasks: RuleSet = RuleSet()
    apply: RuleSet = RuleSet()
    plans: RuleSet = RuleSet()
    targets: tuple[str, ...] | None = None  # None: every inventory target
    run_as: tuple[str, ...] | None = ()  # users `runAs` may name; None: any


@dataclass(frozen=True)
class RunRequest:
    """What a policy decision looks at: the checked plan of one run, as the API received it."""

    kind: str
    shell_command: str | None
    task: str | None
    targets: Iterable[str]
    expert_mode: bool
    expand: Callable[[list[str]], list[str]]
    params: Mapping[str, Any] | None = None
    run_as: str | None = None
    project: str | None = None
    apply_source: str | None = None  # an apply's manifest path or inline code
    noop: bool = False
    plan: str | None = None  # the Bolt plan a plan run runs


@dataclass(frozen=True)
class Policy:
    roles: Mapping[str, RolePolicy]
    expert_mode_roles: frozenset[str]
    document: dict[str, Any] = field(default_factory=dict)  # the effective policy as data
    source: str = "default"

    @classmethod
    def default(cls) -> "Policy":
        return cls.from_mapping(None, "default")

    @classmethod
    def from_mapping(cls, data: Any, source: str) -> "Policy":
        """The default policy with `data` (a config file's `policy:` section) laid over it."""
        merged = yaml.safe_load(DEFAULT_POLICY_YAML)
        if data is not None:
            _expect(data, dict, "policy")
            _known(data, {"expert_mode_roles", "roles"}, "policy")
            if "expert_mode_roles" in data:
                merged["expert_mode_roles"] = data["expert_mode_roles"]
            roles = data.get("roles") or {}
            _expect(roles, dict, "policy.roles")
            for role, section in roles.items():
                where = f"policy.roles.{role}"
                if role not in ROLES:
                    raise ConfigError(f"{where}: unknown role (roles are {', '.join(ROLES)})")
                section = section or {}
                _expect(section, dict, where)
                _known(section, ROLE_KEYS, where)
                merged["roles"][role] = {**(merged["roles"].get(role) or {}), **section}
        expert = merged["expert_mode_roles"]
        _expect(expert, list, "policy.expert_mode_roles")
        for role in expert:
            if role not in ROLES:
                raise ConfigError(f"policy.expert_mode_roles: unknown role {role!r}")
        parsed = {role: _role_policy(merged["roles"].get(role) or {}, f"policy.roles.{role}") for role in ROLES}
        return cls(roles=parsed, expert_mode_roles=frozenset(expert), document=merged, source=source)

    def check_run(self, role: str, **request: Any) -> None:
        """Raise ForbiddenError (code policy_denied, naming the policy) unless `role` may run this.

        `request` holds the fields of RunRequest.
        """
        if not role_allows(role, "run"):
            raise ForbiddenError(f"role {role} may not start executions", details={"role": [role]})
        run = RunRequest(**request)
        rules = self.roles[role]
        if run.expert_mode and role not in self.expert_mode_roles:
            _deny(
                f"expert mode is not allowed for role {role} (policy.expert_mode_roles)",
                "policy.expert_mode_roles",
                expertMode=["not allowed for your role"],
            )
        _check_command(role, rules, run)
        _check_task(role, rules, run)
        _check_apply(role, rules, run)
        _check_plan(role, rules, run)
        _check_run_as(role, rules, run)
        _check_targets(role, rules, run)


def _check_command(role: str, rules: RolePolicy, run: RunRequest) -> None:
    if run.shell_command is None:
        return
    allowed, why = rules.commands.permits(run.shell_command, " ")
    if not allowed:
        where = f"policy.roles.{role}.commands"
        field_name = "command" if run.kind == "command" else run.kind
        _deny(
            f"command {run.shell_command!r} is not allowed for role {role} by the command policy ({where}): {why}",
            where,
            **{field_name: [f"not allowed by {where}"]},
        )


def _check_task(role: str, rules: RolePolicy, run: RunRequest) -> None:
    _check_named("task", run.task, rules.tasks, role, run)


def _check_named(kind: str, name: str | None, rule_set: RuleSet, role: str, run: RunRequest) -> None:
    """A task or plan (`kind`) must be allowed by the role's rules for it, its parameters too."""
    if name is None:
        return
    allowed, why = rule_set.permits(name, "::", run.params or {}, run.project)
    if not allowed:
        where = f"policy.roles.{role}.{kind}s"
        _deny(
            f"{kind} {name!r} with these parameters is not allowed for role {role} by the {kind} policy ({where}): {why}",
            where,
            **{kind: [f"not allowed by {where}"]},
        )


def _check_apply(role: str, rules: RolePolicy, run: RunRequest) -> None:
    """An apply must be allowed by the role's `apply` rules (a caller that gives no source gets none)."""
    if run.kind != "apply":
        return
    allowed, why = rules.apply.permits(run.apply_source or "", "/", noop=run.noop)
    if not allowed:
        where = f"policy.roles.{role}.apply"
        what = "this Puppet code" if run.apply_source is None or "\n" in run.apply_source else repr(run.apply_source)
        what += " (noop)" if run.noop else ""
        _deny(
            f"applying {what} is not allowed for role {role} by the apply policy ({where}): {why}",
            where,
            apply=[f"not allowed by {where}"],
        )


def _check_plan(role: str, rules: RolePolicy, run: RunRequest) -> None:
    """A plan's parameters may be pinned as a task's are."""
    _check_named("plan", run.plan, rules.plans, role, run)


def _check_run_as(role: str, rules: RolePolicy, run: RunRequest) -> None:
    if run.run_as is None or rules.run_as is None or run.run_as in rules.run_as:
        return
    where = f"policy.roles.{role}.run_as"
    _deny(
        f"runAs {run.run_as!r} is not allowed for role {role} ({where})",
        where,
        runAs=[f"not allowed by {where}"],
    )


def _check_targets(role: str, rules: RolePolicy, run: RunRequest) -> None:
    if rules.targets is None:
        return
    permitted = set(run.expand(list(rules.targets)))
    outside = sorted(set(run.targets) - permitted)
    if outside:
        where = f"policy.roles.{role}.targets"
        _deny(
            f"targets {', '.join(outside)} are outside what role {role} may run on ({where})",
            where,
            targets=[f"not allowed by {where}: {name}" for name in outside],
        )


class PolicySource:
    """The current policy: the default, or the config file's `policy:` section, re-read on change."""

    def __init__(self, config_file: str | None):
        self.path = config_file or None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._policy = Policy.default()
        if self.path:
            self._policy = self._read()  # a broken policy at start-up stops the server

    def current(self) -> Policy:
        if not self.path:
            return self._policy
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            self.error = f"cannot read {self.path}: {exc}; keeping the last good policy"
            self._stamp = None  # read it again whenever it comes back
            return self._policy
        if stamp != self._stamp:
            with self._lock:
                try:
                    self._policy = self._read()
                    self.error = None
                except ConfigError as exc:  # keep enforcing the last good policy, say why
                    self._stamp = stamp
                    self.error = f"{exc.message}; keeping the last good policy"
                    log.error("policy not reloaded: %s", self.error)
        return self._policy

    def _read(self) -> Policy:
        try:
            stat = os.stat(self.path)
            with open(self.path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the policy in {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path} must hold a mapping of settings")
        policy = Policy.from_mapping(data.get("policy"), self.path if "policy" in data else "default")
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        return policy


def _deny(message: str, where: str, **details: list[str]) -> None:
    raise ForbiddenError(message, code="policy_denied", details={"policy": where, **details})


def _role_policy(section: dict[str, Any], where: str) -> RolePolicy:
    _known(section, ROLE_KEYS, where)
    return RolePolicy(
        commands=_rule_set(section.get("commands") or {}, f"{where}.commands", COMMAND_RULE_KEYS),
        tasks=_rule_set(section.get("tasks") or {}, f"{where}.tasks", TASK_RULE_KEYS),
        apply=_rule_set(section.get("apply") or {}, f"{where}.apply", APPLY_RULE_KEYS),
        plans=_rule_set(section.get("plans") or {}, f"{where}.plans", TASK_RULE_KEYS),
        targets=_names_or_any(section.get("targets", "*"), f"{where}.targets", "target and group names"),
        run_as=_names_or_any(section.get("run_as", []), f"{where}.run_as", "user names"),
    )


def _names_or_any(value: Any, where: str, what: str) -> tuple[str, ...] | None:
    """`"*"` (None: anything) or a list of non-empty names."""
    if value == "*":
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f'{where}: must be "*" or a list of {what}')
    return tuple(value)


def _rule_set(section: Any, where: str, rule_keys: frozenset[str]) -> RuleSet:
    _expect(section, dict, where)
    _known(section, {"allow", "deny"}, where)
    allow = section.get("allow") or []
    allow_any = allow == "*"
    return RuleSet(
        allow_any=allow_any,
        allow=() if allow_any else _rules(allow, f"{where}.allow", rule_keys),
        deny=_rules(section.get("deny") or [], f"{where}.deny", rule_keys),
    )


def _rules(items: Any, where: str, rule_keys: frozenset[str]) -> tuple[Rule, ...]:
    _expect(items, list, where)
    return tuple(_rule(item, f"{where}[{i}]", rule_keys) for i, item in enumerate(items))


def _rule(item: Any, here: str, rule_keys: frozenset[str]) -> Rule:
    shape = f"{here}: a rule is one of {{exact: TEXT}}, {{prefix: TEXT}}, {{regex: PATTERN}}" + _rule_extras(rule_keys)
    kinds = [k for k in RULE_KINDS if isinstance(item, dict) and k in item]
    if len(kinds) != 1 or set(item) - {kinds[0]} - rule_keys:
        raise ConfigError(shape)
    kind = kinds[0]
    pattern = item[kind]
    if kind == "project":
        if pattern is not True or "params" not in rule_keys:
            raise ConfigError(shape)
        pattern = ""
    elif not isinstance(pattern, str) or not pattern.strip():
        raise ConfigError(shape)
    compiled = None
    if kind == "regex":
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{here}: invalid regular expression: {exc}") from None
    options, noop_only = (_flag(item, name, here) for name in ("options", "noop_only"))
    params = _param_values(item.get("params"), here)
    return Rule(kind, pattern, compiled, params=params, options=options, noop_only=noop_only)


def _rule_extras(rule_keys: frozenset[str]) -> str:
    if "params" in rule_keys:
        return ", {project: true}, optionally with params: {NAME: [VALUES]}"
    if "noop_only" in rule_keys:
        return ", optionally with noop_only: true"
    return ", optionally with options: true"


def _flag(item: dict, name: str, here: str) -> bool:
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{here}.{name}: must be true or false")
    return value


def _param_values(params: Any, here: str) -> dict[str, tuple[Any, ...]] | None:
    if params is None:
        return None
    where = f"{here}.params"
    if not isinstance(params, dict) or not params:
        raise ConfigError(f"{where}: must map parameter names to lists of allowed values")
    for name, values in params.items():
        if not isinstance(name, str) or not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.{name}: must be a non-empty list of allowed values")
    return {name: tuple(values) for name, values in params.items()}


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: must be a {'mapping' if kind is dict else kind.__name__}")


def _known(section: dict, keys: set[str], where: str) -> None:
    unknown = sorted(set(section) - keys)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(map(str, unknown))}")
