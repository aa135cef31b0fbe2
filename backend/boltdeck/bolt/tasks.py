"""Task metadata from `bolt task show NAME` and parameter checks against Puppet data types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_OPTIONAL = re.compile(r"^Optional\[")


@dataclass(frozen=True)
class TaskParameter:
    name: str
    type: str
    description: str | None
    default: Any
    has_default: bool

    @property
    def required(self) -> bool:
        return not self.has_default and not _accepts_undef(parse_type(self.type))

    @property
    def sensitive(self) -> bool:
        return "Sensitive" in self.type

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "required": self.required,
            "sensitive": self.sensitive,
        }
        if self.has_default:
            data["default"] = self.default
        return data


@dataclass(frozen=True)
class TaskMetadata:
    name: str
    description: str | None
    parameters: dict[str, TaskParameter]
    supports_noop: bool

    @classmethod
    def from_show(cls, data: dict[str, Any]) -> "TaskMetadata":
        meta = data.get("metadata") or {}
        params = {
            name: TaskParameter(
                name=name,
                type=str(spec.get("type") or "Any"),
                description=spec.get("description"),
                default=spec.get("default"),
                has_default="default" in spec,
            )
            for name, spec in (meta.get("parameters") or {}).items()
        }
        return cls(
            name=str(data.get("name")),
            description=meta.get("description"),
            parameters=params,
            supports_noop=bool(meta.get("supports_noop")),
        )

    def sensitive_names(self) -> list[str]:
        return [p.name for p in self.parameters.values() if p.sensitive]

    def check(self, params: dict[str, Any]) -> dict[str, list[str]]:
        """Problems per parameter name: unknown, missing required, or wrong type."""
        problems: dict[str, list[str]] = {}
        for name in params:
            if name not in self.parameters:
                problems[name] = [f"task {self.name} has no parameter named {name!r}"]
        for param in self.parameters.values():
            if param.name not in params:
                if param.required:
                    problems[param.name] = [f"missing required parameter (type {param.type})"]
                continue
            if not matches(parse_type(param.type), params[param.name]):
                problems[param.name] = [f"expects a value of type {param.type}, got {_describe(params[param.name])}"]
        return problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "supportsNoop": self.supports_noop,
            "parameters": [p.to_dict() for p in self.parameters.values()],
        }


# A Puppet type is (name, [args]); args are types, numbers, strings or regex patterns.
PuppetType = tuple[str, list[Any]]


def parse_type(text: str) -> PuppetType:
    """Parse a Puppet data type string such as `Optional[Enum[a, b]]` (unknown forms: Any)."""
    try:
        parsed, rest = _parse(text.strip())
        return parsed if not rest.strip() else ("Any", [])
    except (ValueError, IndexError):
        return ("Any", [])


def _parse(text: str) -> tuple[Any, str]:
    if text.startswith("/"):
        end = text.index("/", 1)
        return ("regex", text[1:end]), text[end + 1 :]
    if text[:1] in "'\"":
        end = text.index(text[0], 1)
        return text[1:end], text[end + 1 :]
    match = re.match(r"-?\d+(\.\d+)?|[A-Za-z_][\w:]*|default", text)
    if not match:
        raise ValueError(text)
    word, rest = match.group(0), text[match.end() :].lstrip()
    if re.fullmatch(r"-?\d+(\.\d+)?", word):
        return (float(word) if "." in word else int(word)), rest
    if not word[0].isupper():
        return word, rest  # bare word inside Enum[...]
    args: list[Any] = []
    if rest.startswith("["):
        rest = rest[1:].lstrip()
        while not rest.startswith("]"):
            arg, rest = _parse(rest)
            args.append(arg)
            rest = rest.lstrip()
            if rest.startswith(","):
                rest = rest[1:].lstrip()
        rest = rest[1:]
    return (word, args), rest


def _accepts_undef(ptype: PuppetType) -> bool:
    name, args = ptype
    if name in ("Optional", "Any", "Undef", "Data"):
        return True
    if name == "Variant":
        return any(_accepts_undef(a) for a in args if isinstance(a, tuple))
    return False


def _bounds(args: list[Any]) -> tuple[float | None, float | None]:
    nums = [a for a in args if isinstance(a, (int, float))]
    low = nums[0] if nums else None
    high = nums[1] if len(nums) > 1 else None
    return low, high


def matches(ptype: PuppetType, value: Any) -> bool:
    """Whether a JSON value fits a Puppet type (the common types; others accept anything)."""
    name, args = ptype
    inner = [a for a in args if isinstance(a, tuple)]
    if name in ("Optional", "Sensitive", "NotUndef"):
        if value is None:
            return name == "Optional"
        return matches(inner[0], value) if inner else True
    if value is None:
        return _accepts_undef(ptype)
    if name == "Variant":
        return any(matches(a, value) for a in inner)
    if name == "String":
        low, high = _bounds(args)
        return isinstance(value, str) and (low is None or len(value) >= low) and (high is None or len(value) <= high)
    if name == "Enum":
        return isinstance(value, str) and value in [a for a in args if isinstance(a, str)]
    if name == "Pattern":
        return isinstance(value, str) and any(re.search(a[1], value) for a in args if isinstance(a, tuple))
    if name == "Boolean":
        return isinstance(value, bool)
    if name in ("Integer", "Float", "Numeric"):
        ok = {"Integer": (int,), "Float": (float, int), "Numeric": (int, float)}[name]
        if isinstance(value, bool) or not isinstance(value, ok):
            return False
        low, high = _bounds(args)
        return (low is None or value >= low) and (high is None or value <= high)
    if name in ("Array", "Tuple"):
        return isinstance(value, list) and (not inner or name == "Tuple" or all(matches(inner[0], v) for v in value))
    if name in ("Hash", "Struct"):
        return isinstance(value, dict)
    return True


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a Boolean"
    if isinstance(value, int):
        return "an Integer"
    if isinstance(value, float):
        return "a Float"
    if isinstance(value, str):
        return "a String"
    if isinstance(value, list):
        return "an Array"
    if isinstance(value, dict):
        return "a Hash"
    return "undef"
