"""The schema on PostgreSQL: created at the current version, and every older version migrated to
exactly what a fresh install gets, its rows kept."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from boltdeck.storage import ExecutionStore
from boltdeck.storage.engine import make_engine
from boltdeck.storage.schema import CURRENT_VERSION, metadata

from ..conftest import boltdeck_cli, server_env
from ..pg import fresh_database_url

# What each schema version added to the one before (the migration history, in schema.py's
# words); dropping it from today's schema, newest first, gives the schema of an older version.
ADDED_IN = {
    2: {"tables": ["users", "api_tokens", "sessions", "audit_events"], "columns": {"executions": ["created_by"]}},
    3: {"tables": [], "columns": {"results": ["changed", "truncated"]}},
    4: {"tables": [], "columns": {"api_tokens": ["expires_at"]}},
    5: {"tables": ["workers", "execution_queue"], "columns": {"executions": ["owner", "stop_requested"]}},
    6: {"tables": [], "columns": {"results": ["puppet_summary"]}},
    7: {"tables": [], "columns": {}, "indexes": ["ix_executions_created_by_created"]},
}


@pytest.fixture(scope="module")
def fresh_install() -> dict:
    """The structure of a database a fresh install created."""
    url = fresh_database_url()
    ExecutionStore(url).dispose()
    return structure(url)


def structure(url: str) -> dict:
    """Every table's columns (type, nullability), primary key, indexes and unique constraints."""
    engine = make_engine(url, 5)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            return {
                table: {
                    "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)),
                    "primary key": found.get_pk_constraint(table)["constrained_columns"],
                    "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in found.get_indexes(table)),
                    "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
                }
                for table in found.get_table_names()
            }
    finally:
        engine.dispose()


def build_version(url: str, version: int) -> None:
    """A database at an older schema version: today's schema without what later versions added."""
    engine = make_engine(url, 5)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            for later in range(CURRENT_VERSION, version, -1):
                for index in ADDED_IN[later].get("indexes", []):
                    conn.exec_driver_sql(f"DROP INDEX {index}")
                for table, columns in ADDED_IN[later]["columns"].items():
                    for column in columns:
                        conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
                for table in ADDED_IN[later]["tables"]:
                    conn.exec_driver_sql(f"DROP TABLE {table}")
            conn.exec_driver_sql(f"INSERT INTO schema_version (version) VALUES ({version})")
            # One finished execution with its log and a result, as that version wrote them.
            conn.exec_driver_sql(
                "INSERT INTO executions (id, kind, status, targets, request, expert_mode, timeout_seconds, created_at)"
                " VALUES ('e1', 'command', 'success', '[\"web1\"]', '{}', true, 60, '2024-01-01T00:00:00Z')"
            )
            conn.exec_driver_sql("INSERT INTO execution_targets VALUES ('e1', 'web1')")
            conn.exec_driver_sql("INSERT INTO events VALUES ('e1', 1, 'start', NULL, '{\"seq\": 1}')")
            flags = ("", "") if version < 3 else (", truncated", ", false")  # NOT NULL from version 3
            conn.exec_driver_sql(
                f"INSERT INTO results (execution_id, target, status, exit_code, stdout, value, error{flags[0]})"
                f" VALUES ('e1', 'web1', 'success', 0, 'hello', 'null', 'null'{flags[1]})"
            )
    finally:
        engine.dispose()


def test_a_fresh_database_gets_the_current_schema(database_url):
    store = ExecutionStore(database_url)
    try:
        assert store.schema_version() == CURRENT_VERSION
    finally:
        store.dispose()
    tables = structure(database_url)
    assert set(tables) == set(metadata.tables)
    for name, table in metadata.tables.items():
        assert [c[0] for c in tables[name]["columns"]] == sorted(table.columns.keys()), name


@pytest.mark.parametrize("version", range(1, CURRENT_VERSION))
def test_an_older_schema_is_migrated_to_what_a_fresh_install_gets(database_url, version, fresh_install):
    build_version(database_url, version)
    assert structure(database_url) != fresh_install
    store = ExecutionStore(database_url)  # what `boltdeck serve` and `boltdeck db upgrade` do
    try:
        assert store.schema_version() == CURRENT_VERSION
        execution = store.get_execution("e1")
        assert execution["expert_mode"] is True and execution["targets"] == ["web1"]
        assert [e.body for e in store.read_events("e1")] == [json.dumps({"seq": 1})]
        (result,) = store.get_results("e1")
        assert result["stdout"] == "hello" and result["changed"] is None and result["truncated"] is False
    finally:
        store.dispose()
    assert structure(database_url) == fresh_install


def test_the_cli_refuses_an_outdated_database_until_db_upgrade(database_url, tmp_path):
    """`boltdeck users`/`tokens` never migrate a database a server may be using; `db upgrade` does."""
    build_version(database_url, 1)
    env = server_env(tmp_path, database_url=database_url)
    refused = subprocess.run([sys.executable, "-m", "boltdeck", "users", "list"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "boltdeck db upgrade" in refused.stderr, refused.stderr
    assert f"schema version {CURRENT_VERSION}" in boltdeck_cli(env, "db", "upgrade")
    boltdeck_cli(env, "users", "create", "alice", "--role", "admin", stdin="a long enough password\n")
    assert "alice\tadmin" in boltdeck_cli(env, "users", "list")
