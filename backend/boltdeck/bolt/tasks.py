"""Task metadata from `bolt task show NAME` and parameter checks against Puppet data types.

The checks follow what Bolt 4 does with `bolt task run --params`: it fills in metadata
defaults for absent or null parameters, then matches the plain JSON values against the
types *before* it wraps parameters marked `"sensitive": true` as Sensitive. So a JSON
value never fits a `Sensitive[...]` type, and a whole number never fits `Float` (Boltdeck
hands such a number over as a Float: see `conform`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SENSITIVE_TYPE = re.compile(r"\bSensitive\b")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


@dataclass(frozen=True)
class TaskParameter:
    name: str
    type: str
    description: str | None
    default: Any
    has_default: bool
    marked_sensitive: bool = False  # `"sensitive": true` in the metadata, Bolt's documented way

    @property
    def required(self) -> bool:
        return not self.has_default and not _accepts_undef(parse_type(self.type))

    @property
    def sensitive(self) -> bool:
        """Marked `"sensitive": true`, or typed `Sensitive[...]`: either way never stored or shown."""
        return self.marked_sensitive or bool(_SENSITIVE_TYPE.search(self.type))

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

    def problem(self, given: dict[str, Any]) -> str | None:
        """Why Bolt would refuse this parameter's value in `given` (defaults applied as Bolt does), or None."""
        ptype = parse_type(self.type)
        value = given.get(self.name)
        if value is None and self.has_default:  # Bolt uses the default for an absent or null value
            if matches(ptype, self.default):
                return None
            shown = "" if self.sensitive else f" {self.default!r}"
            return f"the task's default{shown} is not of its type {self.type}, so Bolt refuses it: give a value"
        if self.name not in given:
            return f"missing required parameter (type {self.type})" if self.required else None
        if matches(ptype, value):
            return None
        if _SENSITIVE_TYPE.search(self.type):
            return (
                f"type {self.type} accepts no value from Boltdeck: Bolt checks a value against the type before it "
                'wraps it as Sensitive, so no value fits; the task should type it plainly and mark it "sensitive": true'
            )
        whole = _is_float(value) and value.is_integer() and matches(ptype, int(value))
        hint = f" (write {int(value)}, not {value!r})" if whole else ""
        return f"expects a value of type {self.type}, got {describe_value(value)}{hint}"


@dataclass(frozen=True)
class TaskMetadata:
    name: str
    description: str | None
    parameters: dict[str, TaskParameter]
    supports_noop: bool

    @classmethod
    def from_show(cls, data: dict[str, Any]) -> "TaskMetadata":
        meta = data.get("metadata") or {}
        params = parameters_of(meta.get("parameters"), "default", TaskParameter)
        return cls(
            name=str(data.get("name")),
            description=meta.get("description"),
            parameters=params,
            supports_noop=bool(meta.get("supports_noop")),
        )

    def sensitive_names(self) -> list[str]:
        return [p.name for p in self.parameters.values() if p.sensitive]

    def conform(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters as Bolt must get them (see `conform`); unknown names are left as they are."""
        return {
            name: conform(parse_type(self.parameters[name].type), value) if name in self.parameters else value
            for name, value in params.items()
        }

    def check(self, params: dict[str, Any]) -> dict[str, list[str]]:
        """Problems per parameter name: unknown, missing required, or not of its type (as Bolt judges)."""
        return parameter_problems(f"task {self.name}", self.parameters, params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "supportsNoop": self.supports_noop,
            "parameters": [p.to_dict() for p in self.parameters.values()],
        }


# A Puppet type is (name, [args]); args are types, numbers, strings, regexes ("regex", text),
# or for Struct a dict {key: (type, key may be absent)}.
PuppetType = tuple[str, list[Any]]
_ANY: PuppetType = ("Any", [])


def parameter_problems(owner: str, parameters: dict[str, Any], params: dict[str, Any]) -> dict[str, list[str]]:
    """Problems per parameter name of a task's or plan's (`owner`) parameters: unknown, missing, mistyped."""
    problems = {name: [f"{owner} has no parameter named {name!r}"] for name in params if name not in parameters}
    for param in parameters.values():
        problem = param.problem(params)
        if problem:
            problems[param.name] = [problem]
    return problems


def parameters_of(specs: dict[str, Any] | None, default_key: str, kind: type) -> dict[str, Any]:
    """Parameters (of `kind`) from the `parameters` of Bolt's metadata; the default under `default_key`."""
    return {
        name: kind(
            name=name,
            type=str(spec.get("type") or "Any"),
            description=spec.get("description"),
            default=spec.get(default_key),
            has_default=default_key in spec,
            marked_sensitive=spec.get("sensitive") is True,
        )
        for name, spec in (specs or {}).items()
    }


def parse_type(text: str) -> PuppetType:
    """Parse a Puppet data type string such as `Optional[Enum[a, b]]` (unknown forms: Any)."""
    try:
        parsed, rest = _parse(text.strip())
    except (ValueError, IndexError):
        return _ANY
    return parsed if isinstance(parsed, tuple) and not rest.strip() else _ANY


def _parse(text: str) -> tuple[Any, str]:
    if text.startswith("/"):
        end = text.index("/", 1)
        return ("regex", text[1:end]), text[end + 1 :].lstrip()
    if text[:1] in "'\"":
        end = text.index(text[0], 1)
        return text[1:end], text[end + 1 :].lstrip()
    if text.startswith("{"):
        return _parse_struct_members(text[1:].lstrip())
    match = _NUMBER.match(text) or re.match(r"[A-Za-z_][\w:]*", text)
    if not match:
        raise ValueError(text)
    word, rest = match.group(0), text[match.end() :].lstrip()
    if _NUMBER.fullmatch(word):
        return (int(word) if word.lstrip("-").isdigit() else float(word)), rest
    if not word[0].isupper():
        return word, rest  # a bare word: an Enum value, `default`
    args, rest = _parse_list(rest[1:].lstrip(), "]") if rest.startswith("[") else ([], rest)
    return (word, args), rest


def _parse_list(text: str, close: str) -> tuple[list[Any], str]:
    """Comma-separated items up to `close`; returns them and what follows."""
    items: list[Any] = []
    while not text.startswith(close):
        item, text = _parse(text)
        items.append(item)
        if text.startswith(","):
            text = text[1:].lstrip()
        elif not text.startswith(close):
            raise ValueError(text)
    return items, text[1:].lstrip()


def _parse_struct_members(text: str) -> tuple[dict[str, tuple[PuppetType, bool]], str]:
    """`key => Type, Optional[key] => Type }` into {key: (type, key may be absent)}."""
    members: dict[str, tuple[PuppetType, bool]] = {}
    while not text.startswith("}"):
        key, text = _parse(text)
        if not text.startswith("=>"):
            raise ValueError(text)
        value, text = _parse(text[2:].lstrip())
        optional_key = isinstance(key, tuple) and key[0] == "Optional"
        if isinstance(key, tuple):  # Optional['key'] or NotUndef['key']
            key = key[1][0] if key[1] and isinstance(key[1][0], str) else None
        if not isinstance(key, str) or not isinstance(value, tuple):
            raise ValueError(text)
        members[key] = (value, optional_key or _accepts_undef(value))
        if text.startswith(","):
            text = text[1:].lstrip()
    return members, text[1:].lstrip()


def _types(args: list[Any]) -> list[PuppetType]:
    return [a for a in args if isinstance(a, tuple) and a[0] != "regex"]


def _bounds(args: list[Any]) -> tuple[float | None, float | None]:
    """The (min, max) that follow the type arguments; `default` leaves that end open."""
    limits = [a if isinstance(a, (int, float)) else None for a in args if isinstance(a, (int, float)) or a == "default"]
    limits += [None, None]
    return limits[0], limits[1]


def _within(number: float, args: list[Any]) -> bool:
    low, high = _bounds(args)
    return (low is None or number >= low) and (high is None or number <= high)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


def _accepts_undef(ptype: PuppetType) -> bool:
    """Whether the type takes undef; an unknown type (an alias, say) is taken not to."""
    return ptype[0] in _MATCHERS and matches(ptype, None)


def matches(ptype: PuppetType, value: Any) -> bool:
    """Whether a JSON value fits a Puppet type as Bolt judges it (unknown types: let Bolt decide)."""
    name, args = ptype
    matcher = _MATCHERS.get(name)
    return True if matcher is None else matcher(args, value)


def _match_wrapped(args: list[Any], value: Any) -> bool:
    inner = _types(args)
    return value is not None and (not inner or matches(inner[0], value))


def _match_optional(args: list[Any], value: Any) -> bool:
    return value is None or _match_wrapped(args, value)


def _match_string(args: list[Any], value: Any) -> bool:
    return isinstance(value, str) and _within(len(value), args)


def _match_pattern(args: list[Any], value: Any) -> bool:
    if not isinstance(value, str):
        return False
    patterns = [a[1] if isinstance(a, tuple) else a for a in args if isinstance(a, (tuple, str))]
    try:
        return any(re.search(_python_regex(p), value) for p in patterns)
    except re.error:
        return True  # a Ruby-only construct: Bolt decides


def _python_regex(ruby: str) -> str:
    return ruby.replace(r"\z", r"\Z").replace(r"\h", "[0-9a-fA-F]")


def _match_array(args: list[Any], value: Any) -> bool:
    if not isinstance(value, list) or not _within(len(value), args):
        return False
    inner = _types(args)
    return not inner or all(matches(inner[0], v) for v in value)


def _match_tuple(args: list[Any], value: Any) -> bool:
    """Tuple[A, B] is exactly [a, b]; with a minimum size the last type repeats up to the maximum."""
    inner = _types(args)
    if not isinstance(value, list) or not inner:
        return isinstance(value, list)
    sized = any(isinstance(a, (int, float)) or a == "default" for a in args)
    if not (_within(len(value), args) if sized else len(value) == len(inner)):
        return False
    return all(matches(inner[min(i, len(inner) - 1)], v) for i, v in enumerate(value))


def _match_hash(args: list[Any], value: Any) -> bool:
    if not isinstance(value, dict) or not _within(len(value), args):
        return False
    inner = _types(args)
    keys_ok = len(inner) < 1 or all(matches(inner[0], k) for k in value)
    return keys_ok and (len(inner) < 2 or all(matches(inner[1], v) for v in value.values()))


def _match_struct(args: list[Any], value: Any) -> bool:
    members = next((a for a in args if isinstance(a, dict)), None)
    if not isinstance(value, dict) or members is None:
        return isinstance(value, dict)
    if any(key not in members for key in value):
        return False
    return all(
        matches(ptype, value[key]) if key in value else may_be_absent for key, (ptype, may_be_absent) in members.items()
    )


def _match_enum(args: list[Any], value: Any) -> bool:
    return isinstance(value, str) and value in [a for a in args if isinstance(a, str)]


def _match_number(kind: str):
    def match(args: list[Any], value: Any) -> bool:
        fits = {"Integer": _is_int(value), "Float": _is_float(value), "Numeric": _is_int(value) or _is_float(value)}
        return fits[kind] and _within(value, args)

    return match


def _match_variant(args: list[Any], value: Any) -> bool:
    return any(matches(t, value) for t in _types(args))


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


_MATCHERS = {
    "Any": lambda args, value: True,
    "Data": lambda args, value: True,  # every JSON value is Data
    "RichData": lambda args, value: True,
    "Scalar": lambda args, value: _scalar(value),
    "ScalarData": lambda args, value: _scalar(value),
    "Undef": lambda args, value: value is None,
    "NotUndef": _match_wrapped,
    "Optional": _match_optional,
    # Bolt checks the plain value before it wraps it: no JSON value is Sensitive.
    "Sensitive": lambda args, value: False,
    "Variant": _match_variant,
    "String": _match_string,
    "Enum": _match_enum,
    "Pattern": _match_pattern,
    "Boolean": lambda args, value: isinstance(value, bool),
    "Integer": _match_number("Integer"),
    "Float": _match_number("Float"),
    "Numeric": _match_number("Numeric"),
    "Array": _match_array,
    "Tuple": _match_tuple,
    "Hash": _match_hash,
    "Struct": _match_struct,
}


def conform(ptype: PuppetType, value: Any) -> Any:
    """The value with each whole number where the type wants a Float made a Float; otherwise as given.

    JSON has one number type and JavaScript (the UI among its clients) writes 3.0 as `3`,
    while Bolt refuses the Integer 3 for a Float: Boltdeck hands it over as 3.0.
    """
    if matches(ptype, value):
        return value
    name, args = ptype
    inner = _types(args)
    if name == "Float" and _is_int(value) and abs(value) < 2**53:  # exactly representable as a Float
        return float(value)
    if name in ("Optional", "NotUndef") and inner:
        return conform(inner[0], value)
    if name == "Variant":
        fitting = [c for c in (conform(t, value) for t in inner) if matches(ptype, c)]
        return fitting[0] if fitting else value
    if name == "Array" and inner and isinstance(value, list):
        return [conform(inner[0], v) for v in value]
    if name == "Tuple" and inner and isinstance(value, list):
        return [conform(inner[min(i, len(inner) - 1)], v) for i, v in enumerate(value)]
    if name == "Hash" and len(inner) > 1 and isinstance(value, dict):
        return {k: conform(inner[1], v) for k, v in value.items()}
    if name == "Struct" and isinstance(value, dict):
        members = next((a for a in args if isinstance(a, dict)), {})
        return {k: conform(members[k][0], v) if k in members else v for k, v in value.items()}
    return value


def describe_value(value: Any) -> str:
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
