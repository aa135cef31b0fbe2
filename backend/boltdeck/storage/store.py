"""ExecutionStore: executions, their event logs and per-target results."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, bindparam, func, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError
from .engine import DEFAULT_BUSY_SECONDS, make_engine
from .schema import CURRENT_VERSION, events, execution_targets, executions, migrate, results
from .schema import schema_version as version_table


_JSON_COLUMNS = ("targets", "request", "summary")

# Statements built once, executed with parameters: building one per call (`.values(...)`,
# `column == value`) cost ~250 µs of SQLAlchemy work each, several times per output line.
_INSERT_EXECUTION = executions.insert()
_INSERT_TARGETS = execution_targets.insert()
_UPDATE_EXECUTION = update(executions).where(executions.c.id == bindparam("b_id"))
_GET_EXECUTION = select(executions).where(executions.c.id == bindparam("b_id"))
_INSERT_EVENT = events.insert()
_EVENT_ROW = ("execution_id", "seq", "type", "target", "body")
_INSERT_EVENT_ROW = events.insert().values({name: bindparam(name) for name in _EVENT_ROW})  # in this order
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
    created_by: str | None = None
    q: str | None = None  # text the request holds (command, task name, parameters), case-insensitive
    since: str | None = None
    until: str | None = None
    limit: int = 50
    offset: int = 0


def _like_escaped(text: str) -> str:
    """`text` for a LIKE pattern, its wildcards taken literally (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored: its seq, type, target and the JSON served to clients."""

    seq: int
    type: str
    target: str | None
    body: str

    def __hash__(self) -> int:  # not the body: hashing a 50 MB result event cost ~35 ms (the SSE frame cache)
        return hash((self.seq, self.type, self.target))


class ExecutionStore:
    """Read and write executions through SQLAlchemy Core; SQLite gets WAL mode.

    Every database error leaves this layer as StorageError (see `engine.make_engine`). With
    `upgrade` (the server, `boltdeck db upgrade`) the schema is migrated and statistics are
    refreshed; without it (management commands) an empty database gets the schema and any
    other version is refused, so nothing heavy runs against a database a server is using.
    """

    def __init__(self, url: str, *, busy_seconds: float = DEFAULT_BUSY_SECONDS, upgrade: bool = True):
        self.url = url
        self.engine = make_engine(url, busy_seconds)
        # Writes go through one connection kept open, one at a time (SQLite has one writer
        # anyway): checking a pooled connection out and in cost ~80 µs per write, and an
        # execution writes a few times per output chunk and per target result.
        self._writer: Connection | None = None
        self._write_lock = threading.RLock()
        self._write_depth = 0  # nested write() blocks join the outermost transaction
        insert = _INSERT_EVENT_ROW.compile(dialect=self.engine.dialect)
        self._insert_event_sql, self._insert_event_positional = str(insert), insert.positional
        try:
            if upgrade:
                self.upgrade()
            else:
                self.require_schema()
        except BaseException:
            self.engine.dispose()
            raise

    def dispose(self) -> None:
        with self._write_lock:
            self._drop_writer()
        self.engine.dispose()

    # schema -----------------------------------------------------------------------------
    def schema_version(self) -> int | None:
        """The schema version the database is at; None for an empty database."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(version_table.name):
                return None
            return conn.execute(select(version_table.c.version)).scalar()

    def upgrade(self) -> int:
        """Create or migrate the schema and refresh the planner's statistics; returns the version."""
        found = self.schema_version()
        if found is not None and found > CURRENT_VERSION:
            raise StorageError(_newer_schema(found), code="schema_mismatch")
        version = migrate(self.engine)
        _refresh_statistics(self.engine)
        return version

    def require_schema(self) -> None:
        """Create the schema on an empty database (a fresh install); refuse any other version."""
        found = self.schema_version()
        if found is None:
            migrate(self.engine)  # nothing can be using a database that has no tables yet
        elif found > CURRENT_VERSION:
            raise StorageError(_newer_schema(found), code="schema_mismatch")
        elif found < CURRENT_VERSION:
            raise StorageError(
                f"the database is at schema version {found} and this Boltdeck needs version {CURRENT_VERSION}: "
                "run `boltdeck db upgrade` (or start `boltdeck serve`, which upgrades it) first",
                code="schema_outdated",
            )

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
        if query.created_by:
            conditions.append(executions.c.created_by == query.created_by)
        if query.q:
            # A substring of the stored request JSON, so the text is JSON-escaped the same way
            # (quotes, backslashes, non-ASCII). No B-tree index can serve `%text%`: this scans
            # the rows the other conditions leave.
            needle = _like_escaped(json.dumps(query.q)[1:-1])
            conditions.append(executions.c.request.ilike(f"%{needle}%", escape="\\"))
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

    def append_events(self, execution_id: str, stored: Sequence[StoredEvent]) -> None:
        """Store several events in one statement and transaction (or the caller's `write()` block).

        The statement's text is compiled once and run as is (`exec_driver_sql`): SQLAlchemy's
        per-call work on a compiled statement was ~35 of the ~120 µs an event's write took.
        """
        if self._insert_event_positional:
            rows: list = [(execution_id, e.seq, e.type, e.target, e.body) for e in stored]
        else:
            rows = [dict(zip(_EVENT_ROW, (execution_id, e.seq, e.type, e.target, e.body))) for e in stored]
        with self.write() as conn:
            conn.exec_driver_sql(self._insert_event_sql, rows[0] if len(rows) == 1 else rows)

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
            "changed": result.get("changed"),
            "truncated": bool(result.get("truncated")),
            "puppet_summary": json.dumps(result["puppet"]) if result.get("puppet") is not None else None,
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
                    "changed": r["changed"],
                    "truncated": bool(r["truncated"]),
                    "puppet": json.loads(r["puppet_summary"]) if r["puppet_summary"] else None,
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
            except (SQLAlchemyError, StorageError):
                pass

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except StorageError:
            return False


class _Transaction:
    """A write transaction on the store's writer connection, like engine.begin().

    Commits when the outermost block ends normally, rolls back (and re-raises) when it
    raises; a block inside another joins the outer transaction, so several writes can be
    stored all together or not at all. A connection whose commit or rollback failed is
    dropped and opened afresh next time.
    """

    def __init__(self, store: ExecutionStore):
        self._store = store
        self._tx = None

    def __enter__(self) -> Connection:
        store = self._store
        store._write_lock.acquire()
        try:
            if store._write_depth == 0:
                self._begin()
            store._write_depth += 1
            return store._writer
        except BaseException:
            store._write_lock.release()
            raise

    def _begin(self) -> None:
        conn = self._store._writer_connection()
        try:
            self._tx = conn.begin()
        except BaseException:
            self._store._drop_writer()
            raise

    def __exit__(self, exc_type, exc, tb) -> bool:
        store = self._store
        try:
            store._write_depth -= 1
            if store._write_depth == 0:
                self._end(commit=exc_type is None)
        finally:
            store._write_lock.release()
        return False

    def _end(self, commit: bool) -> None:
        try:
            if commit:
                self._tx.commit()
            else:
                self._tx.rollback()
        except StorageError:
            self._store._drop_writer()
            if commit:
                raise
        except SQLAlchemyError as failure:  # a connection SQLAlchemy itself gave up on
            self._store._drop_writer()
            if commit:
                raise StorageError(f"database write failed: {failure}") from failure


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
    except StorageError:  # statistics only help; a read-only or busy file still works without them
        pass


def _newer_schema(found: int) -> str:
    return (
        f"the database is at schema version {found}, written by a newer Boltdeck "
        f"(this one knows versions up to {CURRENT_VERSION}): use that version"
    )


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v) if k in _JSON_COLUMNS and v is not None else v) for k, v in row.items()}


def _decode(row) -> dict[str, Any]:
    data = dict(row)
    for key in _JSON_COLUMNS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data
