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
    tasks:                  # tasks declare typed parameters; deny the ones that run arbitrary commands
      allow: "*"
      deny:
        - prefix: bolt_shim # Bolt's wrappers that run any command or script
    targets: "*"
  admin:
    commands: {allow: "*"}
    tasks: {allow: "*"}
    targets: "*"
"""


def role_allows(role: str | None, permission: str) -> bool:
    return permission == "public" or role in PERMISSIONS.get(permission, ())


@dataclass(frozen=True)
class Rule:
    """One rule: `exact` text, `prefix` ending on a word boundary, or a `regex` that must match whole."""

    kind: str
    pattern: str
    compiled: re.Pattern | None = None

    def matches(self, text: str, separator: str, plain_rest: bool = False) -> bool:
        """Whether the rule covers `text`; `plain_rest` (allow rules on commands) also requires
        that what follows a prefix is plain words. Deny rules match a prefix whatever follows."""
        if self.kind == "exact":
            return text == self.pattern
        if self.kind == "prefix":
            if text == self.pattern:
                return True
            rest = text[len(self.pattern) :]
            return text.startswith(self.pattern + separator) and (
                not plain_rest or PLAIN_ARGUMENTS.fullmatch(rest) is not None
            )
        return self.compiled.fullmatch(text) is not None

    def describe(self) -> str:
        return f"{self.kind} {self.pattern!r}"


@dataclass(frozen=True)
class RuleSet:
    """Allowed unless a deny rule matches; then allowed if `allow` is "*" or an allow rule matches."""

    allow_any: bool = False
    allow: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()

    def permits(self, text: str, separator: str) -> tuple[bool, str]:
        """(allowed, why) for a command or task name."""
        for rule in self.deny:
            if rule.matches(text, separator):
                return False, f"denied by rule {rule.describe()}"
        if self.allow_any:
            return True, "any is allowed"
        for rule in self.allow:
            if rule.matches(text, separator, plain_rest=separator == " "):
                return True, f"allowed by rule {rule.describe()}"
        return False, "no allow rule matches"


@dataclass(frozen=True)
class RolePolicy:
    commands: RuleSet = RuleSet()
    tasks: RuleSet = RuleSet()
    targets: tuple[str, ...] | None = None  # None: every inventory target


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
                _known(section, {"commands", "tasks", "targets"}, where)
                merged["roles"][role] = {**(merged["roles"].get(role) or {}), **section}
        expert = merged["expert_mode_roles"]
        _expect(expert, list, "policy.expert_mode_roles")
        for role in expert:
            if role not in ROLES:
                raise ConfigError(f"policy.expert_mode_roles: unknown role {role!r}")
        parsed = {role: _role_policy(merged["roles"].get(role) or {}, f"policy.roles.{role}") for role in ROLES}
        return cls(roles=parsed, expert_mode_roles=frozenset(expert), document=merged, source=source)

    def check_run(
        self,
        role: str,
        *,
        kind: str,
        shell_command: str | None,
        task: str | None,
        targets: Iterable[str],
        expert_mode: bool,
        expand: Callable[[list[str]], list[str]],
    ) -> None:
        """Raise ForbiddenError (code policy_denied, naming the policy) unless `role` may run this."""
        if not role_allows(role, "run"):
            raise ForbiddenError(f"role {role} may not start executions", details={"role": [role]})
        rules = self.roles[role]
        if expert_mode and role not in self.expert_mode_roles:
            _deny(
                f"expert mode is not allowed for role {role} (policy.expert_mode_roles)",
                "policy.expert_mode_roles",
                expertMode=["not allowed for your role"],
            )
        if shell_command is not None:
            allowed, why = rules.commands.permits(shell_command, " ")
            if not allowed:
                where = f"policy.roles.{role}.commands"
                field_name = "command" if kind == "command" else kind
                _deny(
                    f"command {shell_command!r} is not allowed for role {role} by the command policy ({where}): {why}",
                    where,
                    **{field_name: [f"not allowed by {where}"]},
                )
        if task is not None:
            allowed, why = rules.tasks.permits(task, "::")
            if not allowed:
                where = f"policy.roles.{role}.tasks"
                _deny(
                    f"task {task!r} is not allowed for role {role} by the task policy ({where}): {why}",
                    where,
                    task=[f"not allowed by {where}"],
                )
        if rules.targets is not None:
            permitted = set(expand(list(rules.targets)))
            outside = sorted(set(targets) - permitted)
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
    _known(section, {"commands", "tasks", "targets"}, where)
    targets = section.get("targets", "*")
    if targets == "*":
        targets = None
    else:
        _expect(targets, list, f"{where}.targets")
        if not all(isinstance(t, str) and t for t in targets):
            raise ConfigError(f"{where}.targets: must be \"*\" or a list of target and group names")
        targets = tuple(targets)
    return RolePolicy(
        commands=_rule_set(section.get("commands") or {}, f"{where}.commands"),
        tasks=_rule_set(section.get("tasks") or {}, f"{where}.tasks"),
        targets=targets,
    )


def _rule_set(section: Any, where: str) -> RuleSet:
    _expect(section, dict, where)
    _known(section, {"allow", "deny"}, where)
    allow = section.get("allow") or []
    allow_any = allow == "*"
    return RuleSet(
        allow_any=allow_any,
        allow=() if allow_any else _rules(allow, f"{where}.allow"),
        deny=_rules(section.get("deny") or [], f"{where}.deny"),
    )


def _rules(items: Any, where: str) -> tuple[Rule, ...]:
    _expect(items, list, where)
    rules = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise ConfigError(f"{here}: a rule is one of {{exact: TEXT}}, {{prefix: TEXT}}, {{regex: PATTERN}}")
        (kind, pattern), = item.items()
        if kind not in ("exact", "prefix", "regex") or not isinstance(pattern, str) or not pattern.strip():
            raise ConfigError(f"{here}: a rule is one of {{exact: TEXT}}, {{prefix: TEXT}}, {{regex: PATTERN}}")
        compiled = None
        if kind == "regex":
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{here}: invalid regular expression: {exc}") from None
        rules.append(Rule(kind, pattern, compiled))
    return tuple(rules)


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: must be a {'mapping' if kind is dict else kind.__name__}")


def _known(section: dict, keys: set[str], where: str) -> None:
    unknown = sorted(set(section) - keys)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(map(str, unknown))}")
