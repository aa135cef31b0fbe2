"""9. The store's writes of a big run, as the event loop feels them: WAL checkpoints off the loop.

In process, no server: the real ExecutionStore on a SQLite file writes what a 50 MB run
writes (the output as stdout events of 64 KiB, one commit each, then the result row and the
`result` event that repeat the whole output). What the gevent loop feels is the time the
writing thread spends inside those calls, and the longest of them (a stall for every viewer
of every execution). The baseline is the same store with SQLite's automatic checkpoint, which
copies the log into the database inside the commit that crosses 1,000 pages; Boltdeck turns
that off and checkpoints from a native thread (`storage/engine.py`, WalCheckpointer). Runs
alternate between the two, best of N each.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from boltdeck.storage import ExecutionStore, engine
from boltdeck.storage.store import StoredEvent

from ..result import Row, ScenarioResult

TITLE = "Store writes of one big run (time the writing thread is held)"
CHUNK = 64 * 1024


@contextmanager
def _sqlite_checkpoints() -> Iterator[None]:
    """The store as it was before the checkpointer: SQLite checkpoints inside the commits."""
    kept = engine.WalCheckpointer
    engine.WalCheckpointer = lambda path: None  # type: ignore[assignment, misc]
    try:
        yield
    finally:
        engine.WalCheckpointer = kept  # type: ignore[misc]


def _one_run(total: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="boltdeck-bench-storage-"))
    store = ExecutionStore(f"sqlite:///{folder / 'boltdeck.sqlite3'}")
    try:
        store.create_execution({"id": "e1", "kind": "command", "status": "running", "targets": ["localhost"],
                                "request": {}, "timeout_seconds": 60.0,
                                "created_at": "2026-12-02T00:00:00.000Z"}, ["localhost"])
        text = "y" * (CHUNK - 1) + "\n"
        chunk = json.dumps({"stream": "stdout", "text": text})
        chunks = total // CHUNK
        calls = [_timed(store.append_events, "e1", [StoredEvent(seq, "stdout", "localhost", chunk)])
                 for seq in range(1, chunks + 1)]
        result = {"target": "localhost", "status": "success", "exitCode": 0, "stdout": text * chunks, "stderr": "",
                  "value": None, "error": None}
        tail = _timed(store.save_result, "e1", result) + _timed(
            store.append_events, "e1", [StoredEvent(chunks + 1, "result", "localhost", json.dumps(result))])
        return {"held": sum(calls) + tail, "tail": tail, "longest": max(calls)}
    finally:
        store.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _timed(call, *args) -> float:
    """Seconds the calling thread spent in call(*args)."""
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["storage"]
    result = ScenarioResult("storage", TITLE)
    result.baseline["what"] = "the same writes with SQLite's automatic checkpoint inside the commits"
    mine: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(p["runs"]):
        mine.append(_one_run(p["bytes"]))
        with _sqlite_checkpoints():
            theirs.append(_one_run(p["bytes"]))
    megabytes = p["bytes"] / 1e6
    best = {key: min(r[key] for r in mine) for key in mine[0]}
    base = {key: min(r[key] for r in theirs) for key in theirs[0]}
    result.figures = {"runs": mine, "best": best}
    result.baseline.update({"runs": theirs, "best": base})
    result.rows += [
        Row(f"{megabytes:g} MB run: writing thread held (best of {p['runs']})", _ms(best["held"]), _ms(base["held"]),
            "ms", "< baseline", best["held"] < base["held"]),
        Row("of which the result row and event", _ms(best["tail"]), _ms(base["tail"]), "ms"),
        Row("longest single output write", _ms(best["longest"]), _ms(base["longest"]), "ms"),
    ]
    return result
