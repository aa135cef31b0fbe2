"""PostgreSQL for the tests: a throwaway cluster, or the server BOLTDECK_TEST_POSTGRES_URL names.

With BOLTDECK_TEST_DATABASE=postgresql, every live server of the suite (tests/conftest.py,
`server_env`) gets a database of its own here instead of a SQLite file. Tests that only mean
something on SQLite are marked `@sqlite_only("why")`.

`fresh_database_url()` gives each caller a new empty database on the session's server. With
BOLTDECK_TEST_POSTGRES_URL (an admin URL; CI may start a server and set it) that server is
used; otherwise the first call starts a PostgreSQL cluster of its own in a temporary
directory on 127.0.0.1 and a free port (initdb + pg_ctl, as the `postgres` user when we are
root). What the session created is dropped (or stopped and deleted) when the process exits.

The throwaway cluster trades durability for speed (fsync off) and asks for a password over
TCP (SCRAM), so the tests' URLs carry one, as a deployment's do.
"""

from __future__ import annotations

import atexit
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

DATABASE_SETTING = "BOLTDECK_TEST_DATABASE"  # sqlite (the default) or postgresql: what live servers use
ADMIN_URL_SETTING = "BOLTDECK_TEST_POSTGRES_URL"
MISSING = "PostgreSQL not found: apt-get install postgresql"
ADMIN_USER = "postgres"
ADMIN_PASSWORD = "throwaway-test-cluster"  # the cluster lives for one test session on 127.0.0.1
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",  # a crash loses a throwaway cluster, nothing else
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "400",  # live servers pool up to 20 each, and several run at once
    "shared_buffers": "32MB",
}


def on_postgres() -> bool:
    """Whether this run's live servers use PostgreSQL (BOLTDECK_TEST_DATABASE=postgresql)."""
    return os.environ.get(DATABASE_SETTING, "sqlite") == "postgresql"


def sqlite_only(why: str) -> pytest.MarkDecorator:
    """Mark a test that only means something on SQLite: skipped in the PostgreSQL run."""
    return pytest.mark.skipif(on_postgres(), reason=f"SQLite only: {why}")


def pg_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's /usr/lib/postgresql/N/bin (newest N)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in a temporary directory, serving 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            pytest.skip(MISSING)
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="boltdeck-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self.running = False
        self.socket_dir.mkdir()
        password_file = self.root / "password"
        password_file.write_text(ADMIN_PASSWORD + "\n")
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            for path in (self.root, self.socket_dir, password_file):
                shutil.chown(path, ADMIN_USER, ADMIN_USER)
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", ADMIN_USER, f"--pwfile={password_file}", "--no-sync",
                "--encoding=UTF8", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
            )
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    @property
    def admin_url(self) -> str:
        return f"postgresql://{ADMIN_USER}:{ADMIN_PASSWORD}@127.0.0.1:{self.port}/postgres"

    def start(self) -> "Cluster":
        """Start the server (on a new free port the first time, on the same one after a stop)."""
        self.port = self.port or free_port()
        options = " ".join(f"-c {k}={v}" for k, v in _SERVER_SETTINGS.items())
        options += f" -p {self.port} -k {self.socket_dir}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `fast` cuts every connection and keeps what was committed.

        (`immediate` is a crash: with synchronous_commit off, the last commits are lost.)
        """
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", ADMIN_USER, "--", *command]
        # pg_ctl's server inherits stdout/stderr: DEVNULL keeps it from holding our pipes open.
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, cwd=self.root, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr}\n{log}")


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def admin_sql(url: str, *statements: str) -> None:
    """Run statements in autocommit (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


class _Session:
    """The session's PostgreSQL server and the databases created on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.admin_url = ""
        self.cluster: Cluster | None = None
        self.created: list[str] = []

    def admin(self) -> str:
        with self.lock:
            if not self.admin_url:
                self.admin_url = os.environ.get(ADMIN_URL_SETTING) or self._own_cluster()
                atexit.register(self.close)
            return self.admin_url

    def _own_cluster(self) -> str:
        cluster = Cluster()
        try:
            cluster.start()
        except BaseException:
            cluster.destroy()
            raise
        self.cluster = cluster
        return cluster.admin_url

    def new_database(self) -> str:
        admin = self.admin()
        with self.lock:
            name = f"boltdeck_test_{os.getpid()}_{len(self.created) + 1}"
            self.created.append(name)
        admin_sql(admin, f'CREATE DATABASE "{name}"')
        return with_database(admin, name)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.destroy()  # its databases go with it
        elif self.created:
            admin_sql(self.admin_url, *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in self.created))


_session = _Session()


def fresh_database_url() -> str:
    """The URL of a new empty database on the session's PostgreSQL server (started on first use)."""
    try:
        import psycopg  # noqa: F401  (installed, and its libpq loads)
    except ImportError:
        pytest.skip("psycopg not installed: pip install 'boltdeck[postgres]'")
    return _session.new_database()


# ------------------------------------------------------------------- a live server's database
def run_sql(url: str, statement: str) -> list[tuple]:
    """Run one statement on a live server's database (SQLite or PostgreSQL), as another process
    would, and commit; its rows, if it returns any."""
    from sqlalchemy import text

    from boltdeck.storage.engine import make_engine

    engine = make_engine(url, 10)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def database_text(url: str) -> str:
    """Every row of every table of a live server's database, as text (to look for what must not be stored)."""
    from sqlalchemy import MetaData, select

    from boltdeck.storage.engine import make_engine

    engine = make_engine(url, 10)
    try:
        tables = MetaData()
        with engine.connect() as conn:
            tables.reflect(conn)
            rows = [[str(v) for v in row] for table in tables.sorted_tables for row in conn.execute(select(table))]
        return json.dumps(rows)
    finally:
        engine.dispose()


# What an execution writes to (its events and its row): PostgreSQL's EXCLUSIVE mode lets others
# read them and nobody write, as SQLite's write lock does.
WRITTEN_TABLES = ("events", "executions")


@contextmanager
def foreign_write_lock(url: str) -> Iterator[None]:
    """Hold the write lock of a live server's database from another connection, as another process would."""
    if url.startswith("sqlite:///"):
        import sqlite3

        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    import psycopg

    with psycopg.connect(url) as other:  # the lock lasts until this transaction ends
        other.execute(f"LOCK TABLE {', '.join(WRITTEN_TABLES)} IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()
