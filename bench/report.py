"""Print the results table and write the JSON file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .result import ScenarioResult


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: list[ScenarioResult]) -> str:
    """A plain-text table: scenario, measure, Boltdeck, baseline, unit, goal, met."""
    header = ("scenario", "measure", "boltdeck", "baseline", "unit", "goal", "met")
    lines: list[tuple[str, ...]] = []
    for result in results:
        if result.error:
            lines.append((result.name, "ERROR: " + result.error[:80], "", "", "", "", "no"))
            continue
        if not result.rows:  # skipped (what is missing and how to get it is its first note)
            lines.append((result.name, _untold(result), "", "", "", "", ""))
            continue
        for i, row in enumerate(result.rows):
            verdict = "" if row.met is None else ("yes" if row.met else "NO")
            lines.append((result.name if i == 0 else "", row.measure, _fmt(row.boltdeck), _fmt(row.baseline),
                          row.unit, row.goal, verdict))
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) if i < 2 or i > 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
            for line in lines]
    return "\n".join(out)


def _untold(result: ScenarioResult) -> str:
    """Why a scenario without an error has no figures: its first note."""
    return result.notes[0] if result.notes else "no figures"


def markdown(results: list[ScenarioResult]) -> str:
    """The same table in Markdown, for docs/performance.md."""
    out = ["| scenario | measure | Boltdeck | baseline | unit | goal | met |", "|---|---|--:|--:|---|---|---|"]
    for result in results:
        if result.error:
            out.append(f"| {result.name} | error: {result.error} | | | | | no |")
            continue
        if not result.rows:
            out.append(f"| {result.name} | {_untold(result)} | | | | | |")
            continue
        for i, row in enumerate(result.rows):
            verdict = "" if row.met is None else ("yes" if row.met else "**no**")
            out.append(f"| {result.name if i == 0 else ''} | {row.measure} | {_fmt(row.boltdeck)} | "
                       f"{_fmt(row.baseline)} | {row.unit} | {row.goal} | {verdict} |")
    return "\n".join(out)


def compare(before: list[ScenarioResult], after: list[ScenarioResult]) -> str:
    """Two runs side by side in Markdown (a change's before and after): each measure of `after`
    beside the same measure of `before`, with `after`'s baseline and verdict."""
    earlier = {(r.name, row.measure): row for r in before for row in r.rows}
    out = ["| scenario | measure | before | after | baseline (after's run) | unit | goal | met |",
           "|---|---|--:|--:|--:|---|---|---|"]
    for result in after:
        for i, row in enumerate(result.rows):
            old = earlier.get((result.name, row.measure))
            verdict = "" if row.met is None else ("yes" if row.met else "**no**")
            out.append(f"| {result.name if i == 0 else ''} | {row.measure} | {_fmt(old.boltdeck if old else None)} | "
                       f"{_fmt(row.boltdeck)} | {_fmt(row.baseline)} | {row.unit} | {row.goal} | {verdict} |")
    return "\n".join(out)


def write_json(path: Path, meta: dict[str, Any], results: list[ScenarioResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta, "scenarios": {r.name: r.to_json() for r in results}}
    path.write_text(json.dumps(_without_nan(data), indent=2, allow_nan=False) + "\n")


def _without_nan(value: Any) -> Any:
    """JSON has no NaN: a figure that could not be measured becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nan(v) for v in value]
    return value


def load_results(path: Path) -> list[ScenarioResult]:
    """Scenario results back from a JSON file written by write_json."""
    from .result import Row

    data = json.loads(Path(path).read_text())
    results = []
    for name, raw in data["scenarios"].items():
        rows = [Row(**{k: row[k] for k in ("measure", "boltdeck", "baseline", "unit", "goal", "met")}) for row in raw["rows"]]
        results.append(ScenarioResult(name, raw["title"], rows, raw["baseline"], raw["figures"], raw["notes"],
                                      raw["seconds"], raw["error"]))
    return results


if __name__ == "__main__":  # python -m bench.report FILE.json [AFTER.json]: a run's table, or two side by side
    import sys

    runs = [load_results(Path(arg)) for arg in sys.argv[1:3]]
    print(compare(*runs) if len(runs) == 2 else markdown(runs[0]))
