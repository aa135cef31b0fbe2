"""Pages in real Chromium: health banner, expert mode, inventory, task forms, history, controls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .helpers import start

pytestmark = pytest.mark.browser

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_missing_bolt_shows_a_banner_naming_the_setting(make_ui, make_server):
    live = make_server(bolt_bin="/nonexistent/bolt")
    ui = make_ui(live=live)
    ui.goto("/inventory")
    banner = ui.page.locator(".banner[role=alert]").filter(has_text="Bolt is not available")
    banner.wait_for()
    assert "BOLTDECK_BOLT_BIN" in banner.text_content()
    # The inventory's own message points at the banner instead of repeating the setting.
    page_error = ui.page.locator(".form-error[role=alert]")
    expect(page_error).to_contain_text("see the message at the top of the page")
    assert "BOLTDECK_BOLT_BIN" not in page_error.text_content()
    assert ui.page.locator(".bolt-state").get_attribute("data-state") == "missing"


def test_expert_mode_is_remembered_and_sent_with_runs(make_ui):
    ui = make_ui(expert=False)
    page = ui.page
    ui.goto("/targets/localhost")
    toggle = page.get_by_label("Expert mode")
    assert not toggle.is_checked()
    toggle.check()
    page.reload()
    expect(page.get_by_label("Expert mode")).to_be_checked()  # set once the app knows the user's role

    page.locator("textarea[name=command]").fill("true")
    with page.expect_request(re.compile(r"/api/commands$")) as request:
        page.get_by_role("button", name="Run command").click()
    assert json.loads(request.value.post_data) == {"targets": ["localhost"], "command": "true", "expertMode": True}
    ui.execution_id()
    page.locator(".command-line").wait_for()  # expert mode shows Bolt's command line


def test_inventory_filter_and_run_on_selected_targets_and_groups(ui):
    page = ui.page
    ui.goto("/inventory")
    page.wait_for_selector("table[data-kind=targets] tbody tr")
    page.get_by_label("Filter").fill("l2")
    assert page.locator("table[data-kind=targets] tbody tr").evaluate_all("rows => rows.map((r) => r.dataset.name)") == ["local2"]
    page.get_by_label("Select local2").check()
    page.get_by_label("Filter").fill("")
    page.get_by_label("Select unreachable").check()
    page.get_by_role("button", name="Run on 2 selected…").click()

    page.wait_for_url(re.compile(r"/run\?targets="))
    assert page.locator(".targets-field .chip").all_text_contents() == ["local2", "unreachable"]
    page.locator("textarea[name=command]").fill("echo hi")
    page.get_by_role("button", name="Run command").click()
    ui.execution_id()
    page.wait_for_selector(".exec-state .badge[data-status=partial]", timeout=20_000)
    ui.wait_finished()  # the badge may come from the record of a run that ended first: then it is replayed
    # the targets' tabs are made a few per frame, possibly after the last event was applied
    expect(page.locator("bd-output-viewer [role=tab] .tab-label")).to_have_text(["local2", "down01", "auth01", "Bolt log"])
    assert ui.pane_lines("local2") == ["hi"]
    assert ui.pane_lines("down01", "stderr")[0].startswith("Error: ")
    assert page.locator(".results-table tbody tr[data-target=down01] .badge").text_content() == "Failed"
    # enabled by the `complete` event's summary, which may come a frame after the final status
    expect(page.get_by_role("button", name="Rerun failed only")).to_be_enabled()


def test_task_form_from_metadata_checks_required_and_shows_server_errors(ui):
    page = ui.page
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    ui.goto("/targets/localhost")
    page.get_by_role("tab", name="Task").click()
    task = page.locator("select[name=task]")

    task.select_option("demo::hello")
    name = page.locator("input[name=param-name]")
    name.wait_for()
    assert name.get_attribute("aria-required") == "true"
    assert page.locator("input[name=param-loud]").get_attribute("type") == "checkbox"
    page.get_by_role("button", name="Run task").click()
    error = page.locator("[data-field='params.name'] .field-error")
    assert error.text_content() == "is required"
    assert name.get_attribute("aria-invalid") == "true"
    assert posts == [], "a missing required parameter must be caught in the browser"

    task.select_option("demo::json")
    assert page.locator("input[name=param-secret]").get_attribute("type") == "password"

    task.select_option("demo::slow")
    count = page.locator("input[name=param-count]")
    count.wait_for()
    assert count.get_attribute("type") == "number" and count.input_value() == "10"
    count.fill("20000")
    with page.expect_response(re.compile(r"/api/tasks/run$")) as answer:
        page.get_by_role("button", name="Run task").click()
    assert answer.value.status == 400
    server_message = answer.value.json()["error"]["details"]["params.count"][0]
    count_error = page.locator("[data-field='params.count'] .field-error")
    count_error.wait_for()
    assert count_error.text_content() == server_message and "Integer[1,10000]" in server_message
    assert page.url.endswith("/targets/localhost")


def test_history_filters_pages_and_follows_running_executions(ui, server):
    page = ui.page
    for word in ("alpha", "beta", "gamma"):
        start(server, "/api/commands", {"targets": ["local2"], "command": f"echo {word}"})
    running = start(
        server,
        "/api/tasks/run",
        {"targets": ["local2"], "task": "demo::slow", "params": {"count": 8, "interval": 0.3}},
    )
    ui.goto("/executions")
    page.locator(f"table.history tr[data-id='{running}'][data-status=running]").wait_for()
    ui.screenshot("history.png")
    ui.goto("/executions?target=local2&limit=2")
    first_row = page.locator(f"table.history tr[data-id='{running}']")
    first_row.wait_for()
    assert first_row.get_attribute("data-status") in ("queued", "running")
    summary = page.locator(".pager p")
    total = int(re.search(r"of (\d+)", summary.text_content()).group(1))
    assert total >= 4 and summary.text_content().startswith("Showing 1–2 of")

    page.get_by_role("button", name="Older →").click()
    expect(summary).to_have_text(re.compile(r"^Showing 3–4 of"))
    assert "offset=2" in page.url

    page.get_by_label("Kind").select_option("task")
    page.get_by_role("button", name="Apply").click()
    expect(summary).to_have_text(re.compile(r"^Showing 1–"))
    page.wait_for_selector(f"table.history tr[data-id='{running}'][data-status=success]", timeout=20_000)
    kinds = page.locator("table.history tbody tr .what a").all_text_contents()
    assert kinds and all(k.startswith("Task ") for k in kinds)


def test_cancel_then_rerun_opens_the_new_execution(ui, server):
    page = ui.page
    execution = start(
        server,
        "/api/tasks/run",
        {"targets": ["localhost"], "task": "demo::slow", "params": {"count": 100, "interval": 0.2}, "expertMode": True},
    )
    ui.goto(f"/executions/{execution}")
    page.get_by_text("step 2 of 100", exact=True).wait_for()
    elapsed = page.locator(".exec-facts .elapsed")
    assert elapsed.get_attribute("data-running") == "true"
    expect(elapsed).not_to_have_text(elapsed.text_content(), timeout=3000)  # the clock ticks
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector(".exec-state .badge[data-status=cancelled]")
    # the badge shows the cancel's answer at once; the clock stops with the streamed end
    expect(elapsed).to_have_attribute("data-running", "false")

    page.get_by_role("button", name="Rerun all").click()
    page.wait_for_url(re.compile(r"/executions/(?!%s)[0-9a-f]+$" % execution))
    page.get_by_text("Rerun (all) of").wait_for()
    page.get_by_text("step 1 of 100", exact=True).wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector(".exec-state .badge[data-status=cancelled]")


def test_facts_are_gathered_on_demand_and_searchable(ui):
    page = ui.page
    ui.goto("/targets/localhost")
    tree = page.locator("bd-facts-tree")
    assert tree.is_hidden()
    page.get_by_role("button", name="Gather facts").click()
    page.locator("bd-facts-tree .tree li").first.wait_for()
    page.get_by_label("Search facts").fill("codename")
    expect(page.locator("bd-facts-tree [aria-live]")).to_have_text(re.compile(r"^\d+ match"))
    keys = page.locator("bd-facts-tree .leaf .key").all_text_contents()
    assert keys and all("codename" in key for key in keys)
    assert page.locator("bd-facts-tree .leaf", has_text="bookworm").count() >= 1
    ui.screenshot("node-facts.png")


def test_frontend_never_writes_markup_from_strings():
    """Untrusted text must reach the page through textContent; no HTML sinks in the UI code."""
    sinks = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment")
    offenders = [
        f"{path.relative_to(FRONTEND)}:{number}"
        for path in FRONTEND.rglob("*.js")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if sinks.search(line)
    ]
    assert offenders == []
