"""Task and plan parameters from `KEY=VALUE` words, typed by their metadata as `bolt task run` types them.

A parameter whose Puppet type is a string type (String, Enum, Pattern, also inside Optional or
Sensitive) keeps its text as is; any other type reads the text as JSON when it parses (`3`,
`true`, `[1,2]`, `{"a":1}`) and keeps the text otherwise, so the server's check names the problem.
`bolt plan run` types a plan's the same way: `targets=web01` stays text, `targets=["a","b"]` a list.
"""

from __future__ import annotations

import json
import re
from typing import Any

WRAPPER = re.compile(r"^(?:Optional|Sensitive)\[(.*)\]$", re.S)
TEXT_TYPES = ("String", "Enum", "Pattern")


class ParameterError(ValueError):
    """A word that is not KEY=VALUE."""


def typed_params(words: list[str], metadata: dict[str, Any]) -> dict[str, Any]:
    """The parameters `words` give, each value typed by its parameter's type in `metadata`."""
    types = {p["name"]: p.get("type") or "Any" for p in metadata.get("parameters") or []}
    params: dict[str, Any] = {}
    for word in words:
        name, equals, text = word.partition("=")
        if not equals or not name:
            raise ParameterError(f"parameters are KEY=VALUE, got {word!r}")
        params[name] = typed_value(text, types.get(name, "Any"))
    return params


def typed_value(text: str, puppet_type: str) -> Any:
    core = puppet_type.strip()
    while match := WRAPPER.match(core):
        core = match.group(1).strip()
    if core.startswith(TEXT_TYPES):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
