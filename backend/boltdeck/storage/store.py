"""ExecutionStore: executions, their event logs and per-target results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, create_engine, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError
from .schema import events, execution_targets, executions, migrate, results

_JSON_COLUMNS = ("targets", "request", "summary")


@dataclass(frozen=True)
class ExecutionFilter:
    """History query: every field optional; times are ISO-8601 UTC strings."""

    status: Sequence[str] = ()
    kind: Sequence[str] = ()
    target: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored: its seq, type, target and the JSON served to clients."""

    seq: int
    type: str
    target: str | None
    body: str


class ExecutionStore:
    """Read and write executions through SQLAlchemy Core; SQLite gets WAL mode."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _make_engine(url)
        migrate(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # executions -------------------------------------------------------------------------
    def create_execution(self, row: dict[str, Any], target_names: Iterable[str]) -> None:
        """Insert a new execution and the target names it may be found by."""
        values = _encode(row)
        with self._begin() as conn:
            conn.execute(executions.insert().values(**values))
            names = sorted(set(target_names))
            if names:
                conn.execute(execution_targets.insert(), [{"execution_id": row["id"], "target": n} for n in names])

    def update_execution(self, execution_id: str, **fields: Any) -> None:
        with self._begin() as conn:
            conn.execute(update(executions).where(executions.c.id == execution_id).values(**_encode(fields)))

    def add_execution_targets(self, execution_id: str, names: Iterable[str]) -> None:
        """Record more names (for example targets a group expanded to) for the target filter."""
        with self._begin() as conn:
            known = set(
                conn.execute(
                    select(execution_targets.c.target).where(execution_targets.c.execution_id == execution_id)
                ).scalars()
            )
            new = sorted(set(names) - known)
            if new:
                conn.execute(execution_targets.insert(), [{"execution_id": execution_id, "target": n} for n in new])

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(executions).where(executions.c.id == execution_id)).mappings().first()
        return _decode(row) if row else None

    def list_executions(self, query: ExecutionFilter) -> tuple[list[dict[str, Any]], int]:
        """Return one page of executions, newest first, and the total that match."""
        conditions = []
        if query.status:
            conditions.append(executions.c.status.in_(list(query.status)))
        if query.kind:
            conditions.append(executions.c.kind.in_(list(query.kind)))
        if query.since:
            conditions.append(executions.c.created_at >= query.since)
        if query.until:
            conditions.append(executions.c.created_at < query.until)
        if query.target:
            conditions.append(
                executions.c.id.in_(
                    select(execution_targets.c.execution_id).where(execution_targets.c.target == query.target)
                )
            )
        where = and_(True, *conditions)
        page = (
            select(executions)
            .where(where)
            .order_by(executions.c.created_at.desc(), executions.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        with self.engine.connect() as conn:
            rows = [_decode(r) for r in conn.execute(page).mappings()]
            total = conn.execute(select(func.count()).select_from(executions).where(where)).scalar_one()
        return rows, total

    def unfinished_execution_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            stmt = select(executions.c.id).where(executions.c.status.in_(["queued", "running"]))
            return list(conn.execute(stmt.order_by(executions.c.created_at)).scalars())

    # events -----------------------------------------------------------------------------
    def append_event(self, execution_id: str, seq: int, type_: str, target: str | None, body: str) -> None:
        """Store one event durably; the caller publishes only after this returns."""
        with self._begin() as conn:
            conn.execute(
                events.insert().values(execution_id=execution_id, seq=seq, type=type_, target=target, body=body)
            )

    def last_seq(self, execution_id: str) -> int:
        with self.engine.connect() as conn:
            stmt = select(func.max(events.c.seq)).where(events.c.execution_id == execution_id)
            return conn.execute(stmt).scalar() or 0

    def read_events(
        self,
        execution_id: str,
        after: int = 0,
        limit: int | None = None,
        types: Iterable[str] | None = None,
        target: str | None = None,
        before: int | None = None,
    ) -> list[StoredEvent]:
        """Events with seq > after (and < before), in order, optionally of some types or one target."""
        stmt = select(events.c.seq, events.c.type, events.c.target, events.c.body).where(
            events.c.execution_id == execution_id, events.c.seq > after
        )
        if before is not None:
            stmt = stmt.where(events.c.seq < before)
        if types is not None:
            stmt = stmt.where(events.c.type.in_(list(types)))
        if target is not None:
            stmt = stmt.where(events.c.target == target)
        stmt = stmt.order_by(events.c.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [StoredEvent(*row) for row in conn.execute(stmt)]

    def read_events_tail(self, execution_id: str, before: int, limit: int, types: Iterable[str]) -> list[StoredEvent]:
        """The last `limit` events of some types with seq < before, in order (for paging back)."""
        stmt = (
            select(events.c.seq, events.c.type, events.c.target, events.c.body)
            .where(events.c.execution_id == execution_id, events.c.seq < before, events.c.type.in_(list(types)))
            .order_by(events.c.seq.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [StoredEvent(*row) for row in reversed(conn.execute(stmt).all())]

    # results ----------------------------------------------------------------------------
    def save_result(self, execution_id: str, result: dict[str, Any]) -> None:
        """Insert or replace one target's result."""
        values = {
            "execution_id": execution_id,
            "target": result["target"],
            "status": result["status"],
            "exit_code": result.get("exitCode"),
            "stdout": result.get("stdout"),
            "stderr": result.get("stderr"),
            "value": json.dumps(result.get("value")),
            "error": json.dumps(result.get("error")),
        }
        with self._begin() as conn:
            conn.execute(
                results.delete().where(results.c.execution_id == execution_id, results.c.target == result["target"])
            )
            conn.execute(results.insert().values(**values))

    def get_results(self, execution_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(results).where(results.c.execution_id == execution_id).order_by(results.c.target)
            ).mappings()
            return [
                {
                    "target": r["target"],
                    "status": r["status"],
                    "exitCode": r["exit_code"],
                    "stdout": r["stdout"],
                    "stderr": r["stderr"],
                    "value": json.loads(r["value"]) if r["value"] else None,
                    "error": json.loads(r["error"]) if r["error"] else None,
                }
                for r in rows
            ]

    # plumbing ---------------------------------------------------------------------------
    def _begin(self):
        return _Transaction(self.engine)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False


class _Transaction:
    """engine.begin() that turns database failures into StorageError."""

    def __init__(self, engine: Engine):
        self._ctx = engine.begin()

    def __enter__(self):
        try:
            return self._ctx.__enter__()
        except SQLAlchemyError as exc:
            raise StorageError(f"database unavailable: {exc}") from exc

    def __exit__(self, *exc_info):
        try:
            return self._ctx.__exit__(*exc_info)
        except SQLAlchemyError as exc:
            raise StorageError(f"database write failed: {exc}") from exc


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v) if k in _JSON_COLUMNS and v is not None else v) for k, v in row.items()}


def _decode(row) -> dict[str, Any]:
    data = dict(row)
    for key in _JSON_COLUMNS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data
