"""Read the result line of `bolt apply --format json`: one JSON array of per-target items.

Unlike `command run` and `task run`, `bolt apply` does not print `{ "items": [` with one line
per target: after every target has finished it prints all of them as one array on one line
(tests/bolt_samples/apply_json.stdout), the report of each target inside its item.
"""

from __future__ import annotations

import json
from typing import Any


def is_result_line(line: str) -> bool:
    """Whether a stdout line is apply's result array (and not a target's streamed output)."""
    return line.startswith('[{"target":')


def items_of(line: str) -> list[dict[str, Any]] | None:
    """The per-target items of a result line, or None when it is not whole JSON (cut, or not one)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, dict) and "target" in item and "status" in item]


def report_of(item: dict[str, Any]) -> dict[str, Any] | None:
    """A target item's Puppet report, if it has one (a target that failed to connect has none)."""
    value = item.get("value")
    report = value.get("report") if isinstance(value, dict) else None
    return report if isinstance(report, dict) else None
