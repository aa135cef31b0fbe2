"""The inventory as `bolt inventory show --detail --format json` describes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Target:
    name: str
    uri: str | None
    transport: str | None
    groups: list[str]
    aliases: list[str]
    vars: dict[str, Any]
    facts: dict[str, Any]
    features: list[str]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "uri": self.uri,
            "transport": self.transport,
            "groups": self.groups,
            "alias": self.aliases,
        }

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "vars": self.vars, "facts": self.facts, "features": self.features}


class Inventory:
    """Targets by name, with their aliases and groups, for lookup and validation."""

    def __init__(self, targets: Iterable[Target]):
        self.targets = {t.name: t for t in targets}
        self.aliases = {a: t.name for t in self.targets.values() for a in t.aliases}
        self.groups: dict[str, list[str]] = {}
        for target in self.targets.values():
            for group in target.groups:
                self.groups.setdefault(group, []).append(target.name)
        self.groups.setdefault("all", list(self.targets))

    @classmethod
    def from_detail(cls, data: dict[str, Any]) -> "Inventory":
        entries = (data.get("inventory") or {}).get("targets") or []
        return cls(_target(e) for e in entries if isinstance(e, dict))

    def unknown_names(self, names: Iterable[str]) -> list[str]:
        """Names that are neither a target, an alias nor a group."""
        return [n for n in names if n not in self.targets and n not in self.aliases and n not in self.groups]

    def expand(self, names: Iterable[str]) -> list[str]:
        """Target names the given target/alias/group names stand for, in a stable order."""
        seen: dict[str, None] = {}
        for name in names:
            if name in self.targets:
                seen[name] = None
            elif name in self.aliases:
                seen[self.aliases[name]] = None
            else:
                seen.update(dict.fromkeys(self.groups.get(name, [])))
        return list(seen)

    def describe(self) -> dict[str, Any]:
        return {
            "targets": [t.summary() for t in self.targets.values()],
            "groups": [{"name": g, "targets": members} for g, members in sorted(self.groups.items())],
        }


def _target(entry: dict[str, Any]) -> Target:
    alias = entry.get("alias") or []
    config = entry.get("config") or {}
    return Target(
        name=str(entry.get("name")),
        uri=entry.get("uri"),
        transport=config.get("transport") or "ssh",
        groups=[g for g in entry.get("groups") or []],
        aliases=[alias] if isinstance(alias, str) else list(alias),
        vars=entry.get("vars") or {},
        facts=entry.get("facts") or {},
        features=list(entry.get("features") or []),
    )
