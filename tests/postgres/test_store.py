"""The store on PostgreSQL: what SQLite let slide (ordering, booleans, replacing rows, generated
keys) reads back the same."""

from __future__ import annotations

import pytest

from boltdeck.errors import ConflictError
from boltdeck.storage import AccountStore, ExecutionStore
from boltdeck.storage.accounts import AuditFilter
from boltdeck.storage.store import ExecutionFilter


def _row(execution_id: str, created_at: str, **fields) -> dict:
    return {
        "id": execution_id,
        "kind": "command",
        "status": "queued",
        "targets": ["web1"],
        "request": {"command": "true"},
        "expert_mode": False,
        "timeout_seconds": 60.0,
        "created_at": created_at,
        **fields,
    }


def test_events_read_back_in_seq_order(store):
    store.create_execution(_row("e1", "2026-01-01T00:00:00.000Z"), ["web1"])
    for seq in (3, 1, 12, 2, 11):  # stored out of order: only ORDER BY gives them back in order
        store.append_event("e1", seq, "stdout", "web1" if seq % 2 else None, f'{{"seq": {seq}}}')
    assert [e.seq for e in store.read_events("e1")] == [1, 2, 3, 11, 12]
    assert [e.seq for e in store.read_events("e1", after=2, limit=2)] == [3, 11]
    assert [e.seq for e in store.read_events("e1", target="web1")] == [1, 3, 11]
    assert [e.seq for e in store.read_events_tail("e1", before=12, limit=2, types=["stdout"])] == [3, 11]
    assert store.last_seq("e1") == 12 and store.last_seq("nothing") == 0


def test_a_saved_result_replaces_the_previous_one_and_keeps_its_flags(store):
    store.create_execution(_row("e1", "2026-01-01T00:00:00.000Z"), ["web1", "web2"])
    store.save_result("e1", {"target": "web1", "status": "running", "stdout": "half"})
    store.save_result("e1", {"target": "web1", "status": "success", "exitCode": 0, "stdout": "all",
                             "value": {"ok": True}, "changed": True, "truncated": True})
    store.save_result("e1", {"target": "web2", "status": "failure", "exitCode": 1, "changed": False})
    web1, web2 = store.get_results("e1")
    assert (web1["target"], web1["status"], web1["stdout"], web1["value"]) == ("web1", "success", "all", {"ok": True})
    assert web1["changed"] is True and web1["truncated"] is True
    assert web2["changed"] is False and web2["truncated"] is False and web2["exitCode"] == 1


def test_execution_booleans_json_and_history_filters(store):
    store.create_execution(_row("a", "2026-01-01T00:00:01.000Z", expert_mode=True), ["web1"])
    store.create_execution(_row("b", "2026-01-01T00:00:02.000Z", kind="task"), ["web2"])
    store.create_execution(_row("c", "2026-01-01T00:00:03.000Z"), ["web1"])
    store.update_execution("c", status="success", summary={"ok": 1})
    store.add_execution_targets("a", ["web1", "db1"])
    assert store.get_execution("a")["expert_mode"] is True and store.get_execution("b")["expert_mode"] is False
    assert store.get_execution("c")["summary"] == {"ok": 1} and store.get_execution("nothing") is None
    rows, total = store.list_executions(ExecutionFilter(limit=2))
    assert [r["id"] for r in rows] == ["c", "b"] and total == 3
    rows, total = store.list_executions(ExecutionFilter(target="web1", status=["queued"]))
    assert [r["id"] for r in rows] == ["a"] and total == 1
    rows, _ = store.list_executions(ExecutionFilter(target="db1", kind=["command"], since="2026-01-01T00:00:01.000Z"))
    assert [r["id"] for r in rows] == ["a"]
    assert store.unfinished_execution_ids() == ["a", "b"]


def test_accounts_generated_ids_duplicates_and_the_audit_order(store):
    accounts = AccountStore(store)
    alice = accounts.create_user("alice", "admin", "$argon2id$x", "2026-01-01T00:00:00Z")
    bob = accounts.create_user("bob", "viewer", "$argon2id$y", "2026-01-01T00:00:00Z")
    assert bob["id"] > alice["id"]
    with pytest.raises(ConflictError) as refused:
        accounts.create_user("alice", "viewer", "$argon2id$z", "2026-01-02T00:00:00Z")
    assert refused.value.code == "user_exists"
    accounts.create_token("t1", "bob", "ci", "h" * 64, "2026-01-01T00:00:00Z", expires_at="2026-02-01T00:00:00Z")
    assert accounts.user_of_token("h" * 64, "2026-01-15T00:00:00Z")["name"] == "bob"
    assert accounts.user_of_token("h" * 64, "2026-03-01T00:00:00Z") is None
    assert accounts.revoke_token("t1", "2026-01-16T00:00:00Z") and not accounts.revoke_token("t1", "2026-01-17T00:00:00Z")
    for n in range(3):
        accounts.add_audit({"at": "2026-01-01T00:00:00Z", "user": "alice", "action": f"a{n}", "outcome": "ok",
                            "detail": {"n": n}})
    rows, total = accounts.list_audit(AuditFilter(user="alice"))
    assert [r["action"] for r in rows] == ["a2", "a1", "a0"] and total == 3 and rows[0]["detail"] == {"n": 2}
    accounts.delete_user("bob")
    assert [u["name"] for u in accounts.list_users()] == ["alice"] and accounts.get_token("t1") is None


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql+psycopg://"])
def test_the_other_spellings_of_a_postgresql_url_reach_the_same_database(store, database_url, scheme):
    store.create_execution(_row("e1", "2026-01-01T00:00:00.000Z"), ["web1"])
    other = ExecutionStore(database_url.replace("postgresql://", scheme, 1), upgrade=False)
    try:
        assert other.get_execution("e1")["id"] == "e1"
    finally:
        other.dispose()
