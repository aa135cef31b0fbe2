"""Plan metadata from `bolt plan show` and parameter checks as `bolt plan run --params` makes them.

A plan's parameters are typed like a task's (see tasks.py), with three differences Bolt 4 shows:
- every parameter without a default needs a value, even an Optional one (null will do);
- a default is a Puppet expression (`"'world'"`, `"[1, 2]"`): Boltdeck only knows there is one;
- Bolt wraps a value for a parameter typed `Sensitive` or `Sensitive[T]` itself, so it checks
  the plain value against T; a Sensitive nested deeper takes no value from JSON.
`TargetSpec` (Bolt's alias `Variant[String[1], Target, Array[TargetSpec]]`) is understood too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .tasks import PuppetType, TaskParameter, conform, describe_value, matches, parameter_problems, parameters_of, parse_type

TARGET_SPEC_NAMES = frozenset({"TargetSpec", "Boltlib::TargetSpec"})
_TARGET_SPEC_WORD = re.compile(r"\bTargetSpec\b")
# TargetSpec as a JSON value can be: a non-empty string, or a list of TargetSpecs (never a
# Target object). The type refers to itself, as Bolt's alias does; a value is finite, so
# matching and conforming end.
TARGET_SPEC: PuppetType = ("Variant", [("String", [1])])
TARGET_SPEC[1].append(("Array", [TARGET_SPEC]))


@dataclass(frozen=True)
class PlanParameter(TaskParameter):
    """A plan parameter; `default` holds the Puppet expression of its default, never evaluated."""

    @property
    def required(self) -> bool:
        return not self.has_default

    @property
    def target_spec(self) -> bool:
        return bool(_TARGET_SPEC_WORD.search(self.type))

    def json_type(self) -> PuppetType:
        """The type a JSON value is checked against: TargetSpec spelled out, a top-level Sensitive unwrapped."""
        ptype = parse_type(self.type)
        if ptype[0] == "Sensitive":
            inner = [a for a in ptype[1] if isinstance(a, tuple)]
            ptype = inner[0] if inner else ("Any", [])
        return _spell_target_spec(ptype)

    def problem(self, given: dict[str, Any]) -> str | None:
        """Why Bolt would refuse this parameter's value in `given`, or None."""
        if self.name not in given:
            return f"missing required parameter (type {self.type})" if self.required else None
        value = given[self.name]
        if (value is None and self.has_default) or matches(self.json_type(), value):
            return None  # Bolt uses the default for a null value
        why = f"expects a value of type {self.type}, got {describe_value(value)}"
        if "Sensitive" in self.type and parse_type(self.type)[0] != "Sensitive":
            why += " (Bolt wraps a value as Sensitive only for a parameter typed Sensitive[...] itself)"
        return why

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "targetSpec": self.target_spec}


@dataclass(frozen=True)
class PlanMetadata:
    name: str
    description: str | None
    summary: str | None
    private: bool
    parameters: dict[str, PlanParameter]

    @classmethod
    def from_show(cls, data: dict[str, Any]) -> "PlanMetadata":
        """Read `bolt plan show NAME --format json`."""
        params = parameters_of(data.get("parameters"), "default_value", PlanParameter)
        return cls(
            name=str(data.get("name")),
            description=data.get("description"),
            summary=data.get("summary"),
            private=data.get("private") is True,
            parameters=params,
        )

    def target_spec_names(self) -> list[str]:
        """The parameters whose type mentions TargetSpec (`TargetSpec`, `Optional[TargetSpec]`, ...)."""
        return [p.name for p in self.parameters.values() if p.target_spec]

    def targets_parameter(self) -> str | None:
        """The parameter a run's `targets` fills: the TargetSpec one named `targets`, else the only one."""
        names = self.target_spec_names()
        if "targets" in names:
            return "targets"
        return names[0] if len(names) == 1 else None

    def sensitive_names(self) -> list[str]:
        return [p.name for p in self.parameters.values() if p.sensitive]

    def conform(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters as Bolt must get them (whole numbers made Floats where wanted; see tasks.conform)."""
        return {
            name: conform(self.parameters[name].json_type(), value) if name in self.parameters else value
            for name, value in params.items()
        }

    def check(self, params: dict[str, Any]) -> dict[str, list[str]]:
        """Problems per parameter name: unknown, missing required, or not of its type (as Bolt judges)."""
        return parameter_problems(f"plan {self.name}", self.parameters, params)

    def to_dict(self) -> dict[str, Any]:
        """The body of GET /api/plans/<name>."""
        return {
            "name": self.name,
            "description": self.description,
            "summary": self.summary,
            "parameters": [p.to_dict() for p in self.parameters.values()],
        }


def plan_list(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Read `bolt plan show --format json` (which leaves out private plans): name and description, by name."""
    plans = [{"name": str(name), "description": description} for name, description in data.get("plans") or []]
    return sorted(plans, key=lambda plan: plan["name"])


def _spell_target_spec(ptype: PuppetType) -> PuppetType:
    """The type with each TargetSpec replaced by TARGET_SPEC (type arguments and Struct members too)."""
    name, args = ptype
    if name in TARGET_SPEC_NAMES:
        return TARGET_SPEC
    return name, [_spell_argument(arg) for arg in args]


def _spell_argument(arg: Any) -> Any:
    if isinstance(arg, tuple) and arg[0] != "regex":
        return _spell_target_spec(arg)
    if isinstance(arg, dict):  # Struct members: {key: (type, may be absent)}
        return {key: (_spell_target_spec(mtype), absent) for key, (mtype, absent) in arg.items()}
    return arg
