"""Read the captured outputs of tests/progress/fixtures and Puppet's own summary in them."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def lines_of(name: str) -> list[str]:
    """A capture's lines as Bolt hands them on: split at newlines only, carriage returns kept."""
    return (FIXTURES / name).read_text(encoding="utf-8").split("\n")


def puppet_summary(name: str) -> dict[str, dict[str, float]]:
    """The `--summarize` block of a Puppet capture: {section: {label: value}}, labels lower-case."""
    return summary_of(lines_of(name))


def summary_of(lines: list[str]) -> dict[str, dict[str, float]]:
    """The `--summarize` block of Puppet output lines (see puppet_summary)."""
    sections: dict[str, dict[str, float]] = {}
    current = None
    for line in lines:
        if re.fullmatch(r"[A-Z][A-Za-z]+:", line):
            current = sections.setdefault(line[:-1].lower(), {})
        elif current is not None and (match := re.fullmatch(r"\s+([A-Za-z ]+): (\d+(?:\.\d+)?)", line)):
            current[match[1].lower()] = float(match[2])
    return sections
