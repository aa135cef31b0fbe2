"""Puppet agent exit codes, and the per-target flags the store keeps (`changed`, `truncated`)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from boltdeck.executions.model import settle_puppet_exit_code, settle_puppet_result
from boltdeck.storage import ExecutionStore
from boltdeck.storage.schema import CURRENT_VERSION, migrate


def _agent_result(code: int) -> dict:
    """Bolt's command result for an agent that exited `code` (as parser.result_of makes it)."""
    failed = code != 0
    error = {"kind": "puppetlabs.tasks/command-error", "issueCode": "COMMAND_ERROR", "message": "failed", "details": {}}
    return {
        "target": "web01",
        "status": "failure" if failed else "success",
        "exitCode": code,
        "stdout": "Notice: done\n",
        "stderr": "",
        "value": None,
        "error": error if failed else None,
    }


@pytest.mark.parametrize(
    ("code", "status", "changed"),
    [(0, "success", False), (2, "success", True), (4, "failure", False), (6, "failure", True), (1, "failure", False)],
)
def test_settle_puppet_result_keeps_the_agent_code_and_reads_changed(code, status, changed):
    """Bug: agent exit 6 (changes applied AND failures) was recorded as `changed: false`."""
    settled = settle_puppet_result(_agent_result(code))
    assert (settled["status"], settled["exitCode"], settled["changed"]) == (status, code, changed)
    assert (settled["error"] is None) == (status == "success")


def test_settle_puppet_exit_code_reads_bolts_1_as_0_only_for_a_success():
    """Bug: a successful Puppet run with changes showed exit code 1 (Bolt's code for agent exit 2)."""
    assert settle_puppet_exit_code(1, "success") == 0
    assert settle_puppet_exit_code(1, "partial") == 1
    assert settle_puppet_exit_code(1, "failed") == 1
    assert settle_puppet_exit_code(0, "success") == 0
    assert settle_puppet_exit_code(None, "cancelled") is None


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'results.sqlite3'}"
    engine = create_engine(url)
    migrate(engine)
    engine.dispose()
    found = ExecutionStore(url)
    yield found
    found.dispose()


def test_store_keeps_changed_and_truncated(store):
    """Bug: results lost `changed` and `truncated` on the way to the execution detail."""
    store.save_result("e1", {**_agent_result(6), "changed": True, "truncated": True})
    store.save_result("e1", {**_agent_result(0), "target": "web02"})
    by_target = {r["target"]: r for r in store.get_results("e1")}
    assert (by_target["web01"]["changed"], by_target["web01"]["truncated"]) == (True, True)
    assert (by_target["web02"]["changed"], by_target["web02"]["truncated"]) == (None, False)


def test_migration_adds_the_result_flags_to_a_version_2_database(tmp_path):
    """A database from before the flags gets both columns; its old results read as not truncated."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    migrate(engine)
    with engine.begin() as conn:  # back to version 2's results table
        conn.exec_driver_sql("ALTER TABLE results DROP COLUMN changed")
        conn.exec_driver_sql("ALTER TABLE results DROP COLUMN truncated")
        conn.exec_driver_sql("UPDATE schema_version SET version = 2")
        conn.exec_driver_sql("INSERT INTO results (execution_id, target, status) VALUES ('old', 'web01', 'success')")
    assert migrate(engine) == CURRENT_VERSION >= 3
    assert {"changed", "truncated"} <= {c["name"] for c in inspect(engine).get_columns("results")}
    engine.dispose()
    store = ExecutionStore(str(engine.url))
    try:
        (old,) = store.get_results("old")
        assert (old["changed"], old["truncated"]) == (None, False)
    finally:
        store.dispose()
