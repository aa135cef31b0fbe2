"""6. History at scale: N recorded executions; p95 of filtered history pages and of one execution's detail."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from boltdeck.storage import ExecutionFilter, ExecutionStore
from boltdeck.storage.schema import CURRENT_VERSION, events, execution_targets, executions, results

from ..result import Row, ScenarioResult
from ..server import BenchServer
from ..stats import percentile

TITLE = "History at scale"
P95_LIMIT_MS = 50.0
BATCH = 5000
STATUSES = ["success"] * 14 + ["failed"] * 3 + ["partial"] * 2 + ["cancelled", "timed_out"]
KINDS = ["command"] * 10 + ["task"] * 6 + ["puppet"] * 3 + ["package"]
HOSTS = [f"web{i:03d}" for i in range(200)]
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
GENERATOR_VERSION = 1  # bump when the generated rows change, so a cached file is not reused
SEED = 6


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "boltdeck-bench"


def prepare(db_path: Path, count: int) -> tuple[list[str], dict]:
    """Put `count` recorded executions into db_path; generated once, then copied from a cache.

    Generating 100,000 executions takes about 25 s on 2 cores; the file is kept under
    ~/.cache/boltdeck-bench keyed by count, seed, schema and generator version.
    """
    cached = cache_dir() / f"history-{count}-seed{SEED}-schema{CURRENT_VERSION}-gen{GENERATOR_VERSION}.sqlite3"
    started = time.perf_counter()
    from_cache = cached.exists() and cached.with_suffix(".ids").exists()
    if not from_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        scratch = cached.with_suffix(f".tmp{os.getpid()}")
        ids = populate(f"sqlite:///{scratch}", count, SEED)
        cached.with_suffix(".ids").write_text("\n".join(ids))
        os.replace(scratch, cached)
    shutil.copyfile(cached, db_path)
    ids = cached.with_suffix(".ids").read_text().split("\n")
    return ids, {"populate_seconds": round(time.perf_counter() - started, 1), "from_cache": from_cache,
                 "cache_file": str(cached)}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def populate(url: str, count: int, seed: int = SEED) -> list[str]:
    """Write `count` finished executions (rows, targets, results, start/complete events) through the store."""
    rng = random.Random(seed)
    store = ExecutionStore(url)  # creates the schema exactly as the server would
    ids: list[str] = []
    try:
        for start in range(0, count, BATCH):
            rows, names, outcomes, logged = [], [], [], []
            for i in range(start, min(count, start + BATCH)):
                row, targets, target_results, body = _execution(rng, i, count)
                rows.append(row)
                ids.append(row["id"])
                names += [{"execution_id": row["id"], "target": t} for t in targets]
                outcomes += target_results
                logged += body
            with store.engine.begin() as conn:
                conn.execute(executions.insert(), rows)
                conn.execute(execution_targets.insert(), names)
                conn.execute(results.insert(), outcomes)
                conn.execute(events.insert(), logged)
        with store.engine.begin() as conn:  # one self-contained file, no -wal beside it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.dispose()
    return ids


def _execution(rng: random.Random, i: int, count: int):
    execution_id = uuid.UUID(int=rng.getrandbits(128)).hex
    created = NOW - timedelta(days=365) * (1 - i / max(1, count)) + timedelta(milliseconds=rng.randrange(1000))
    status, kind = rng.choice(STATUSES), rng.choice(KINDS)
    targets = sorted(rng.sample(HOSTS, rng.choice((1, 1, 1, 2, 3))))
    duration = rng.randrange(200, 60_000)
    failed = targets[:1] if status in ("failed", "partial") else []
    summary = {"targets": len(targets), "succeeded": [t for t in targets if t not in failed], "failed": failed,
               "noResult": []}
    row = {
        "id": execution_id, "kind": kind, "status": status, "targets": json.dumps(targets),
        "request": json.dumps({"targets": targets, "command": "uptime", "hasSensitive": False}),
        "expert_mode": rng.random() < 0.5, "command_line": "bolt command run uptime", "parent_id": None,
        "rerun_scope": None, "timeout_seconds": 3600.0, "created_at": _iso(created),
        "started_at": _iso(created + timedelta(milliseconds=5)),
        "finished_at": _iso(created + timedelta(milliseconds=duration)), "exit_code": 0 if not failed else 1,
        "duration_ms": duration, "summary": json.dumps(summary), "error": None,
    }
    target_results = [
        {"execution_id": execution_id, "target": t, "status": "failure" if t in failed else "success",
         "exit_code": 1 if t in failed else 0, "stdout": " 10:00:00 up 12 days,  3 users\n", "stderr": "",
         "value": "null", "error": "null"}
        for t in targets
    ]
    body = [
        {"execution_id": execution_id, "seq": 1, "type": "start", "target": None,
         "body": json.dumps({"seq": 1, "type": "start", "executionId": execution_id, "data": {"kind": kind}})},
        {"execution_id": execution_id, "seq": 2, "type": "complete", "target": None,
         "body": json.dumps({"seq": 2, "type": "complete", "executionId": execution_id, "data": {"status": status}})},
    ]
    return row, targets, target_results, body


def queries(rng: random.Random) -> list[tuple[str, dict]]:
    """History pages an operator would ask for, each with the filter it uses."""
    since = NOW - timedelta(days=rng.randrange(30, 300))
    host = rng.choice(HOSTS)
    return [
        ("newest", {"limit": 50}),
        ("status", {"status": "failed", "limit": 50}),
        ("kind+status", {"kind": "task", "status": "success,partial", "limit": 50}),
        ("target", {"target": host, "limit": 50}),
        ("window", {"since": _iso(since), "until": _iso(since + timedelta(days=7)), "limit": 50}),
        ("all filters, page 2", {"status": "failed", "kind": "command", "target": host, "limit": 50, "offset": 50}),
        ("deep page", {"limit": 50, "offset": 5000}),
    ]


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["history"]
    result = ScenarioResult("history", TITLE)
    server = BenchServer()
    try:
        ids, how = prepare(server.db_path, p["executions"])
    except BaseException:
        server.remove_workdir()
        raise
    result.figures.update(how)
    rng = random.Random(66)
    timings: dict[str, list[float]] = {"list": [], "list_fresh": [], "detail": [], "detail_fresh": []}
    by_query: dict[str, list[float]] = {}
    with ctx.server(server):
        server.request("GET", "/api/executions?limit=1")
        for _ in range(p["requests"]):
            for name, params in queries(rng):
                path = "/api/executions?" + urlencode(params)
                timings["list"].append(_timed(server, path, fresh=False))
                elapsed = _timed(server, path, fresh=True)
                timings["list_fresh"].append(elapsed)
                by_query.setdefault(name, []).append(elapsed)
            path = f"/api/executions/{rng.choice(ids)}"
            timings["detail"].append(_timed(server, path, fresh=False))
            timings["detail_fresh"].append(_timed(server, path, fresh=True))
        store_ms = _store_baseline(f"sqlite:///{server.db_path}", rng, p["requests"], ids)  # before the file goes
    result.baseline.update({
        "what": "the same queries through boltdeck.storage.ExecutionStore in the bench process (no HTTP, no JSON)",
        "list_p95_ms": round(percentile(store_ms["list"], 95), 2),
        "detail_p95_ms": round(percentile(store_ms["detail"], 95), 2),
    })
    p95 = {k: round(percentile(v, 95), 2) for k, v in timings.items()}
    result.figures.update({
        "executions": len(ids),
        **{f"{k}_p50_ms": round(percentile(v, 50), 2) for k, v in timings.items()},
        **{f"{k}_p95_ms": v for k, v in p95.items()},
        "list_fresh_p95_ms_by_query": {k: round(percentile(v, 95), 2) for k, v in by_query.items()},
    })
    for key, label in (("list", "history page"), ("detail", "one execution's detail")):
        base = result.baseline[f"{key}_p95_ms"]
        result.rows += [
            Row(f"{label} p95, kept-alive connection", p95[key], base, "ms", f"< {P95_LIMIT_MS:g}",
                p95[key] < P95_LIMIT_MS),
            Row(f"{label} p95, new connection each", p95[f"{key}_fresh"], base, "ms", f"< {P95_LIMIT_MS:g}",
                p95[f"{key}_fresh"] < P95_LIMIT_MS),
        ]
    result.rows[0].measure = f"{len(ids)} executions: " + result.rows[0].measure
    worst = max(by_query.items(), key=lambda kv: percentile(kv[1], 95))
    result.notes.append(f"slowest history query (new connections): {worst[0]} (p95 {percentile(worst[1], 95):.1f} ms)")
    return result


def _timed(server: BenchServer, path: str, fresh: bool) -> float:
    started = time.perf_counter()
    status, body = server.request("GET", path, fresh=fresh)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body}")
    return elapsed


def _store_baseline(url: str, rng: random.Random, requests: int, ids: list[str]) -> dict[str, list[float]]:
    store = ExecutionStore(url)
    timings: dict[str, list[float]] = {"list": [], "detail": []}
    try:
        for _ in range(requests):
            for _, params in queries(rng):
                query = ExecutionFilter(
                    status=tuple(params.get("status", "").split(",")) if params.get("status") else (),
                    kind=(params["kind"],) if "kind" in params else (), target=params.get("target"),
                    since=params.get("since"), until=params.get("until"), limit=params["limit"],
                    offset=params.get("offset", 0),
                )
                t0 = time.perf_counter()
                store.list_executions(query)
                timings["list"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            execution_id = rng.choice(ids)
            store.get_execution(execution_id)
            store.get_results(execution_id)
            timings["detail"].append((time.perf_counter() - t0) * 1000)
    finally:
        store.dispose()
    return timings
