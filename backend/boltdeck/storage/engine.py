"""The database engine: every database error becomes StorageError; SQLite waits for locks cooperatively."""

from __future__ import annotations

import functools
import sqlite3
import time
from pathlib import Path
from typing import Callable, TypeVar

import gevent
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..errors import StorageError

T = TypeVar("T")
DEFAULT_BUSY_SECONDS = 10.0


def make_engine(url: str, busy_seconds: float) -> Engine:
    """An engine whose every database error becomes StorageError; SQLite waits for locks cooperatively."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # timeout 0: SQLite's own busy handler sleeps inside the C library, which freezes the
        # whole gevent loop (an append once waited 1.46 s there, every request stalled);
        # _CooperativeConnection waits in gevent sleeps instead. IMMEDIATE: the BEGIN that
        # sqlite3 issues before a transaction's first write takes the write lock at once, so a
        # transaction never has to upgrade a read snapshot (SQLITE_BUSY_SNAPSHOT, which no wait
        # cures) and only that BEGIN (and COMMIT, outside WAL) can meet another process's lock.
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": 0,
                "isolation_level": "IMMEDIATE",
                "factory": _CooperativeConnection,
            },
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
            dbapi_conn.busy_seconds = busy_seconds
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "handle_error", _storage_error, retval=True)
    return engine


def _storage_error(context) -> StorageError | None:
    """The storage boundary: a database error on any statement, commit or connect becomes StorageError."""
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, DBAPIError):
        return None  # a pre-ping reconnects by itself; gevent's Timeout and GreenletExit pass unchanged
    original = context.original_exception
    if isinstance(context.sqlalchemy_exception, IntegrityError):  # a unique key taken meanwhile
        return StorageError(f"the record exists already: {original}", code="conflict", status=409)
    if _is_busy(original):
        return StorageError(
            "the database is busy: another process held its lock for too long; try again",
            code="storage_busy",
            status=503,
        )
    return StorageError(f"database error: {original}")


# SQLITE_BUSY and SQLITE_BUSY_RECOVERY: waiting helps. Not SQLITE_BUSY_SNAPSHOT (517): a read
# transaction that saw an older snapshot must start again, which only its caller can do.
_BUSY_CODES = frozenset({5, 261})


def _is_busy(error: BaseException) -> bool:
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return code in _BUSY_CODES if code is not None else "database is locked" in str(error)


def _patiently(busy_seconds: float, attempt: Callable[[], T]) -> T:
    """Run `attempt`, retrying after gevent sleeps while another process holds the lock, for up to busy_seconds."""
    deadline = time.monotonic() + busy_seconds
    pause = 0.001
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        gevent.sleep(pause)  # other greenlets run meanwhile
        pause = min(pause * 2, 0.05)


class _CooperativeConnection(sqlite3.Connection):
    """A sqlite3 connection that waits for other processes' locks in gevent sleeps, bounded by busy_seconds.

    Retrying one statement after SQLITE_BUSY is what SQLite's own busy handler does: the
    statement did nothing. A transaction holds the write lock from its first write on (BEGIN
    IMMEDIATE), so a retry never repeats half of an executemany (which is not retried).
    """

    busy_seconds = DEFAULT_BUSY_SECONDS

    def cursor(self, factory=None):  # type: ignore[override]
        return super().cursor(factory or _CooperativeCursor)

    def commit(self) -> None:  # COMMIT waits for readers when the journal is not a WAL
        _patiently(self.busy_seconds, super().commit)


class _CooperativeCursor(sqlite3.Cursor):
    """A cursor whose statements wait for other processes' locks cooperatively (see above)."""

    def execute(self, sql, parameters=()):  # type: ignore[override]
        run = functools.partial(sqlite3.Cursor.execute, self, sql, parameters)
        return _patiently(self.connection.busy_seconds, run)
