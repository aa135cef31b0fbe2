"""What a scenario hands back: figures, its baseline from the same run, and the goal."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the printed table: a measure for Boltdeck beside its baseline."""

    measure: str
    boltdeck: float | None
    baseline: float | None
    unit: str
    goal: str = ""
    met: bool | None = None  # None: informative, no goal


@dataclass
class ScenarioResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)  # what the baseline is and its figures
    figures: dict[str, Any] = field(default_factory=dict)  # everything Boltdeck measured
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def met(self) -> bool | None:
        verdicts = [r.met for r in self.rows if r.met is not None]
        return all(verdicts) if verdicts else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["met"] = self.met
        return data
