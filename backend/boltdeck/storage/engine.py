"""The database engine of SQLite or PostgreSQL: every database error becomes StorageError, and no
wait for a lock, a connection or a query stalls the gevent loop.

SQLite waits for other processes' locks in gevent sleeps (below). PostgreSQL goes through
psycopg 3, which waits on its socket through the selectors module: once gevent has patched
that (the `boltdeck` command does so first thing), every wait yields to other greenlets.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Callable, TypeVar

import gevent
from gevent import monkey
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from ..errors import ConfigError, StorageError
from ..redaction import mask_url

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_BUSY_SECONDS = 10.0
SETTING = "BOLTDECK_DATABASE_URL"
SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite"})
POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})
# Connections per process: 5 kept open, up to 15 more while busy. Four processes stay within
# PostgreSQL's default max_connections (100); more greenlets than that wait for one cooperatively.
POOL_SIZE, POOL_OVERFLOW = 5, 15
CONNECT_TIMEOUT_SECONDS = 10  # libpq's default is forever: a dropped packet would hang start-up
WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024  # SQLite's own automatic checkpoint comes at 1,000 pages of 4 KiB


def make_engine(url: str, busy_seconds: float) -> Engine:
    """An engine on a SQLite or PostgreSQL URL whose every database error becomes StorageError.

    The URL is checked here, once, by connecting: a wrong scheme, a missing driver, an
    unreachable server or refused credentials stop start-up with one line naming the setting,
    and never the password.
    """
    parsed = _parse(url)
    if parsed.drivername in SQLITE_SCHEMES:
        engine = _sqlite_engine(url, parsed, busy_seconds)
    elif parsed.drivername in POSTGRES_SCHEMES:
        engine = _postgres_engine(url, parsed, busy_seconds)
    elif parsed.get_backend_name() == "postgresql":
        raise ConfigError(
            f"{SETTING} must name PostgreSQL as postgresql://, with no driver: Boltdeck uses psycopg 3, "
            f"the driver that cooperates with gevent; got {mask_url(url)}"
        )
    else:
        raise ConfigError(f"{SETTING} must be a sqlite:/// or postgresql:// URL, got {mask_url(url)}")
    event.listen(engine, "handle_error", _storage_error, retval=True)
    try:
        with engine.connect():
            pass
    except StorageError as exc:
        engine.dispose()
        raise StorageError(
            f"cannot open the database that {SETTING} names ({mask_url(url)}): {_one_line(exc.__cause__ or exc)}",
            code="database_unavailable",
            status=503,
        ) from exc
    return engine


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:  # their messages may quote the URL: ours masks it
        raise ConfigError(f"{SETTING} is not a valid database URL: {mask_url(url)}") from exc


def _one_line(error: BaseException) -> str:
    return " ".join(str(getattr(error, "orig", None) or error).split())


def _sqlite_engine(url: str, parsed: URL, busy_seconds: float) -> Engine:
    path = parsed.database
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the folder of {SETTING} ({mask_url(url)}): {exc.strerror}") from exc
    # timeout 0: SQLite's own busy handler sleeps inside the C library, which freezes the
    # whole gevent loop (an append once waited 1.46 s there, every request stalled);
    # _CooperativeConnection waits in gevent sleeps instead. IMMEDIATE: the BEGIN that
    # sqlite3 issues before a transaction's first write takes the write lock at once, so a
    # transaction never has to upgrade a read snapshot (SQLITE_BUSY_SNAPSHOT, which no wait
    # cures) and only that BEGIN (and COMMIT, outside WAL) can meet another process's lock.
    engine = create_engine(
        parsed,
        connect_args={
            "check_same_thread": False,
            "timeout": 0,
            "isolation_level": "IMMEDIATE",
            "factory": _CooperativeConnection,
        },
    )
    checkpointer = WalCheckpointer(path) if path and path != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
        dbapi_conn.busy_seconds = busy_seconds
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpointer is not None:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
            cursor.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_BYTES}")
            dbapi_conn.checkpointer = checkpointer
        cursor.close()

    if checkpointer is not None:
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
    return engine


_start_thread, _allocate_lock = monkey.get_original("_thread", ["start_new_thread", "allocate_lock"])


class WalCheckpointer:
    """Copies a SQLite database's write-ahead log back into it from a native thread, off the gevent loop.

    SQLite's automatic checkpoint runs inside the COMMIT that takes the log past 1,000 pages: that
    call copies the log into the database file and syncs it, and the whole loop waits (streaming
    50 MB of output: 0.54 s of commits with it, 0.18 s without; two 50 MB rows: 0.9 s and 0.42 s).
    This engine's connections turn it off. After each commit, `committed` looks at the log's size
    (one stat) and, past WAL_CHECKPOINT_BYTES, wakes this checkpointer's thread, which runs a
    PASSIVE checkpoint on its own connection: that never blocks a writer or a reader, and sqlite3
    releases the GIL while it works. The next write then starts the log over, and
    `journal_size_limit` cuts the file back to WAL_CHECKPOINT_BYTES. The thread starts with the
    first checkpoint (again in a forked child) and ends when the engine is disposed; a checkpoint
    that fails (another process holding the checkpoint lock) is tried again at a later commit.
    """

    def __init__(self, path: str, limit: int = WAL_CHECKPOINT_BYTES):
        self.path = path
        self.limit = limit
        self.checkpoints = 0  # completed, for tests and the curious
        self.last_error: str | None = None  # why the last one did not run (another process held its lock)
        self.running = False  # the thread is alive
        self._wal = f"{path}-wal"
        self._wake = _allocate_lock()  # held while the thread has nothing to do
        self._thread_pid: int | None = None  # the process whose thread it is: a forked child starts its own
        self._busy = False  # woken and not done yet: commits meanwhile need not wake it again
        self._stopped = False

    def committed(self) -> None:
        """After a commit: wake the thread when the log has grown past the limit (cheap otherwise)."""
        if self._stopped:
            return
        pid = os.getpid()
        if self._thread_pid != pid and self._thread_pid is not None:  # forked: the parent's thread is not here
            self._thread_pid, self._busy, self._wake = None, False, _allocate_lock()
        if self._busy:
            return
        try:
            if os.stat(self._wal).st_size <= self.limit:
                return
        except OSError:
            return
        self._busy = True
        if self._thread_pid is None:
            self._thread_pid, self.running = pid, True
            self._wake.acquire()
            _start_thread(self._run, ())
        self._release()

    def stop(self) -> None:
        self._stopped = True
        self._release()

    def _release(self) -> None:
        try:
            self._wake.release()
        except RuntimeError:  # already released: the thread is on its way
            pass

    def _run(self) -> None:
        connection = None
        try:
            while True:
                self._wake.acquire()
                if self._stopped:
                    return
                try:
                    if connection is None:
                        connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # kept, not logged: logging's locks are gevent's, this is no greenlet
                    self.last_error = str(exc)
                finally:
                    self._busy = False
        finally:
            if connection is not None:
                connection.close()
            self.running = False


def _postgres_engine(url: str, parsed: URL, busy_seconds: float) -> Engine:
    """psycopg 3 whatever the URL says (`postgresql://` alone would mean psycopg2, which blocks gevent).

    A statement waits for another transaction's lock up to busy_seconds (lock_timeout), and a
    greenlet for a pooled connection as long; either way it then fails as storage_busy (503).
    """
    if parsed.drivername != "postgresql+psycopg":  # no other driver is accepted: see POSTGRES_SCHEMES
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        from psycopg import waiting  # SQLAlchemy would import psycopg too, with a less helpful error
    except ImportError as exc:
        raise ConfigError(
            f"{SETTING} names a PostgreSQL database ({mask_url(url)}) but its driver, psycopg, "
            "is not installed: pip install 'boltdeck[postgres]'"
        ) from exc
    if monkey.is_module_patched("select") and waiting.wait is getattr(waiting, "wait_c", None):
        log.warning(
            "psycopg was imported before gevent patched the standard library, so it waits for "
            "PostgreSQL without yielding: each query holds up every other request. Patch first "
            "(as `boltdeck` and gunicorn's gevent worker do)."
        )
    lock_timeout = f"-c lock_timeout={max(1, round(busy_seconds * 1000))}"  # 0 would mean forever
    options = " ".join(filter(None, (parsed.query.get("options"), lock_timeout)))
    parsed = parsed.update_query_dict({"options": options})
    if "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    return create_engine(
        parsed,
        poolclass=_CooperativePool,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=busy_seconds,
        pool_pre_ping=True,  # a connection the server dropped (restart, idle timeout) is replaced
    )


class _CooperativePool(QueuePool):
    """A connection pool whose greenlets wait for a free connection up to busy_seconds, then 503.

    Its wait is a monkey-patched Condition, so waiting greenlets yield. The pool's own timeout
    error is not a database error (no handle_error event sees it); this makes it one.
    """

    def _do_get(self):
        try:
            return super()._do_get()
        except PoolTimeout as exc:
            raise _busy("every connection of this process stayed in use") from exc


# SQLAlchemy names a pool's logger after its class, here under `boltdeck` (INFO when serving):
# as quiet as SQLAlchemy's own pools, which would otherwise log every dispose.
logging.getLogger(f"{__name__}.{_CooperativePool.__name__}").setLevel(logging.WARNING)


def _busy(why: str = "another process held its lock") -> StorageError:
    return StorageError(f"the database is busy: {why} for too long; try again", code="storage_busy", status=503)


def _storage_error(context) -> StorageError | None:
    """The storage boundary: a database error on any statement, commit or connect becomes StorageError."""
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, DBAPIError):
        return None  # a pre-ping reconnects by itself; gevent's Timeout and GreenletExit pass unchanged
    original = context.original_exception
    if isinstance(context.sqlalchemy_exception, IntegrityError) and _is_duplicate(original):
        return StorageError(f"the record exists already: {original}", code="conflict", status=409)
    if _is_busy(original):
        return _busy()
    return StorageError(f"database error: {original}")


# A unique key taken meanwhile: PostgreSQL's unique_violation; SQLite's SQLITE_CONSTRAINT_PRIMARYKEY
# and _UNIQUE. Other integrity errors (a NULL in a NOT NULL column) are bugs, not conflicts.
_DUPLICATE_SQLSTATE = "23505"
_DUPLICATE_CODES = frozenset({1555, 2067})


def _is_duplicate(error: BaseException) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == _DUPLICATE_SQLSTATE
    return getattr(error, "sqlite_errorcode", None) in _DUPLICATE_CODES


# SQLITE_BUSY and SQLITE_BUSY_RECOVERY: waiting helps. Not SQLITE_BUSY_SNAPSHOT (517): a read
# transaction that saw an older snapshot must start again, which only its caller can do.
_BUSY_CODES = frozenset({5, 261})
# PostgreSQL: lock_timeout passed (55P03), a serialization failure or deadlock (40001, 40P01:
# the transaction was rolled back and may be tried again), all connection slots taken (53300).
_BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01", "53300"})


def _is_busy(error: BaseException) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _BUSY_SQLSTATES
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

    checkpointer: WalCheckpointer | None = None  # set when the engine's database is a file (see _pragmas)

    def cursor(self, factory=None):  # type: ignore[override]
        return super().cursor(factory or _CooperativeCursor)

    def commit(self) -> None:  # COMMIT waits for readers when the journal is not a WAL
        _patiently(self.busy_seconds, super().commit)
        if self.checkpointer is not None:
            self.checkpointer.committed()


class _CooperativeCursor(sqlite3.Cursor):
    """A cursor whose statements wait for other processes' locks cooperatively (see above)."""

    def execute(self, sql, parameters=()):  # type: ignore[override]
        run = functools.partial(sqlite3.Cursor.execute, self, sql, parameters)
        return _patiently(self.connection.busy_seconds, run)
