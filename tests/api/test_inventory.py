"""Health, inventory, tasks and facts endpoints (issue 2)."""

from __future__ import annotations


def test_inventory_health_reports_bolt_honestly(server, make_server):
    health = server.api("GET", "/api/health").json()
    assert health["bolt"]["available"] is True
    assert health["bolt"]["path"].endswith("tests/bolt_double/bolt")
    assert health["bolt"]["version"] == "4.0.1-rc.001"
    assert health["database"]["ok"] is True and health["status"] == "ok"
    missing = make_server(bolt_bin="/nonexistent/bolt")
    health = missing.api("GET", "/api/health").json()
    assert health["status"] == "degraded"
    assert health["bolt"] == {**health["bolt"], "available": False, "path": None, "version": None}
    assert "BOLTDECK_BOLT_BIN" in health["bolt"]["problem"]
    refused = missing.run("/api/commands", {"targets": ["localhost"], "command": "id"})
    assert refused.status_code == 503 and "BOLTDECK_BOLT_BIN" in refused.json()["error"]["message"]


def test_inventory_lists_targets_and_groups(server):
    inventory = server.api("GET", "/api/inventory").json()
    targets = {t["name"]: t for t in inventory["targets"]}
    assert targets["localhost"]["transport"] == "local"
    assert "local" in targets["localhost"]["groups"]
    assert targets["local2"]["alias"] == ["l2"]
    groups = {g["name"]: g["targets"] for g in inventory["groups"]}
    assert sorted(groups["local"]) == ["local2", "localhost"]


def test_inventory_target_detail_and_unknown(server):
    detail = server.api("GET", "/api/inventory/targets/localhost").json()
    assert detail["name"] == "localhost" and "vars" in detail and "facts" in detail
    assert server.api("GET", "/api/inventory/targets/l2").json()["name"] == "local2"
    assert server.api("GET", "/api/inventory/targets/nosuch").status_code == 404


def test_inventory_facts_gathered_with_the_facts_task(server):
    facts = server.api("GET", "/api/targets/localhost/facts").json()
    assert facts["target"] == "localhost"
    assert "os" in facts["facts"]


def test_inventory_tasks_list_and_detail(server):
    names = [t["name"] for t in server.api("GET", "/api/tasks").json()["tasks"]]
    assert {"demo::hello", "demo::slow", "package", "facts"} <= set(names)
    hello = server.api("GET", "/api/tasks/demo::hello").json()
    params = {p["name"]: p for p in hello["parameters"]}
    assert params["name"]["required"] is True and params["name"]["type"] == "String[1]"
    assert server.api("GET", "/api/tasks/nosuch::task").status_code == 404


def test_inventory_edit_is_seen_without_restart(make_server, tmp_path):
    import shutil
    import time

    from ..conftest import TEST_PROJECT

    project = tmp_path / "project"
    shutil.copytree(TEST_PROJECT, project, symlinks=False)
    live = make_server(bolt_project=str(project))
    body = {"targets": ["newbox"], "command": "true"}
    assert live.run("/api/commands", body).status_code == 400
    inventory = (project / "inventory.yaml").read_text()
    (project / "inventory.yaml").write_text(
        inventory + "  - name: extra\n    targets:\n      - uri: localhost\n        name: newbox\n"
        "    config:\n      transport: local\n"
    )
    time.sleep(2.1)  # unknown names re-read the inventory at most every 2 s
    assert live.run("/api/commands", body, wait=True).json()["status"] == "success"
