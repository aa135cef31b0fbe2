"""ExecutionStore: executions, their event logs and per-target results."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, bindparam, create_engine, event, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError
from .schema import events, execution_targets, executions, migrate, results

_JSON_COLUMNS = ("targets", "request", "summary")

# Statements built once, executed with parameters: building one per call (`.values(...)`,
# `column == value`) cost ~250 µs of SQLAlchemy work each, several times per output line.
_INSERT_EXECUTION = executions.insert()
_INSERT_TARGETS = execution_targets.insert()
_UPDATE_EXECUTION = update(executions).where(executions.c.id == bindparam("b_id"))
_GET_EXECUTION = select(executions).where(executions.c.id == bindparam("b_id"))
_INSERT_EVENT = events.insert()
_LAST_SEQ = select(func.max(events.c.seq)).where(events.c.execution_id == bindparam("b_id"))
_EVENT_COLUMNS = (events.c.seq, events.c.type, events.c.target, events.c.body)
_READ_EVENTS_PAGE = (
    select(*_EVENT_COLUMNS)
    .where(events.c.execution_id == bindparam("b_id"), events.c.seq > bindparam("b_after"))
    .order_by(events.c.seq)
    .limit(bindparam("b_limit"))
)
_DELETE_RESULT = results.delete().where(
    results.c.execution_id == bindparam("b_id"), results.c.target == bindparam("b_target")
)
_INSERT_RESULT = results.insert()
_GET_RESULTS = select(results).where(results.c.execution_id == bindparam("b_id")).order_by(results.c.target)


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
        _refresh_statistics(self.engine)
        # Writes go through one connection kept open, one at a time (SQLite has one writer
        # anyway): checking a pooled connection out and in cost ~80 µs per write, and an
        # execution writes a few times per output chunk and per target result.
        self._writer: Connection | None = None
        self._write_lock = threading.RLock()

    def dispose(self) -> None:
        with self._write_lock:
            self._drop_writer()
        self.engine.dispose()

    # executions -------------------------------------------------------------------------
    def create_execution(self, row: dict[str, Any], target_names: Iterable[str]) -> None:
        """Insert a new execution and the target names it may be found by."""
        values = _encode(row)
        with self.write() as conn:
            conn.execute(_INSERT_EXECUTION, values)
            names = sorted(set(target_names))
            if names:
                conn.execute(_INSERT_TARGETS, [{"execution_id": row["id"], "target": n} for n in names])

    def update_execution(self, execution_id: str, **fields: Any) -> None:
        if not fields:
            return
        with self.write() as conn:  # the SET clause comes from the parameters' keys
            conn.execute(_UPDATE_EXECUTION, {"b_id": execution_id, **_encode(fields)})

    def add_execution_targets(self, execution_id: str, names: Iterable[str]) -> None:
        """Record more names (for example targets a group expanded to) for the target filter."""
        with self.write() as conn:
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
            row = conn.execute(_GET_EXECUTION, {"b_id": execution_id}).mappings().first()
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
        with self.write() as conn:
            conn.execute(
                _INSERT_EVENT, {"execution_id": execution_id, "seq": seq, "type": type_, "target": target, "body": body}
            )

    def last_seq(self, execution_id: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(_LAST_SEQ, {"b_id": execution_id}).scalar() or 0

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
        if limit is not None and before is None and types is None and target is None:  # the replay path
            with self.engine.connect() as conn:
                rows = conn.execute(_READ_EVENTS_PAGE, {"b_id": execution_id, "b_after": after, "b_limit": limit})
                return [StoredEvent(*row) for row in rows]
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
        with self.write() as conn:
            conn.execute(_DELETE_RESULT, {"b_id": execution_id, "b_target": result["target"]})
            conn.execute(_INSERT_RESULT, values)

    def get_results(self, execution_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(_GET_RESULTS, {"b_id": execution_id}).mappings()
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
    def write(self) -> "_Transaction":
        """A write transaction on the one writer connection (also used by the account store)."""
        return _Transaction(self)

    def _writer_connection(self) -> Connection:
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._drop_writer()
            self._writer = self.engine.connect()
        return self._writer

    def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except SQLAlchemyError:
                pass

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False


class _Transaction:
    """A write transaction on the store's writer connection; database failures become StorageError.

    Commits when the block ends normally, rolls back (and re-raises) when it raises, like
    engine.begin(). A connection that failed is dropped and opened afresh on the next write.
    """

    def __init__(self, store: ExecutionStore):
        self._store = store
        self._tx = None

    def __enter__(self) -> Connection:
        self._store._write_lock.acquire()
        try:
            conn = self._store._writer_connection()
            self._tx = conn.begin()
            return conn
        except SQLAlchemyError as exc:
            self._store._drop_writer()
            self._store._write_lock.release()
            raise StorageError(f"database unavailable: {exc}") from exc
        except BaseException:
            self._store._write_lock.release()
            raise

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        except SQLAlchemyError as failure:
            self._store._drop_writer()
            if exc_type is None:
                raise StorageError(f"database write failed: {failure}") from failure
        finally:
            self._store._write_lock.release()
        return False


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


def _refresh_statistics(engine: Engine) -> None:
    """Give SQLite's planner table statistics (ANALYZE, sampled so it stays fast on big files).

    Without them SQLite guesses that `kind = ?` is selective and walks a quarter of the
    history to answer a history page filtered by target, kind and status (50 ms at 100,000
    executions instead of 3 ms). PostgreSQL keeps its statistics itself (autovacuum).
    """
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
    except SQLAlchemyError:  # statistics only help; a read-only or busy file still works without them
        pass


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v) if k in _JSON_COLUMNS and v is not None else v) for k, v in row.items()}


def _decode(row) -> dict[str, Any]:
    data = dict(row)
    for key in _JSON_COLUMNS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data
