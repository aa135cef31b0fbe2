"""Logging in and out, role-aware controls and the admin page, in real Chromium."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN, ADMIN_PASSWORD

from .helpers import start

pytestmark = pytest.mark.browser


def test_login_form_shows_a_wrong_password_then_returns_to_the_page_asked_for(make_ui, server):
    ui = make_ui(role=None)
    page = ui.page
    ui.goto("/executions?kind=task")
    page.wait_for_url(re.compile(r"/login\?next=" + re.escape(quote("/executions?kind=task", safe=""))))
    assert page.get_by_role("navigation", name="Main").is_hidden()

    page.get_by_label("User name").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    with page.expect_response(re.compile(r"/api/auth/login$")) as answer:
        page.get_by_role("button", name="Log in").click()
    assert answer.value.status == 401
    message = answer.value.json()["error"]["message"]
    expect(page.get_by_role("alert")).to_have_text(message)
    assert page.get_by_label("Password").input_value() == ""
    ui.screenshot("login.png")

    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/executions?kind=task")
    expect(page.get_by_label("Kind")).to_have_value("task")
    assert page.locator("bd-app-header .user-name").text_content() == ADMIN
    assert page.locator("bd-app-header .user-role").text_content() == "admin"


def test_logout_sends_the_csrf_token_and_ends_the_session(ui, server):
    page = ui.page
    ui.goto("/inventory")
    page.wait_for_selector("table[data-kind=targets] tbody tr")
    with page.expect_request(re.compile(r"/api/auth/logout$")) as request:
        page.get_by_role("button", name="Log out").click()
    assert request.value.headers.get("x-csrf-token"), "a cookie-authenticated POST must carry X-CSRF-Token"
    page.wait_for_url(server.url + "/login")
    page.get_by_label("User name").wait_for()
    assert page.request.get(server.url + "/api/auth/me").status == 401
    ui.goto("/executions")
    page.wait_for_url(re.compile(r"/login\?next=%2Fexecutions$"))


def test_a_401_later_on_returns_to_the_login_page_and_back(ui, server):
    """A session that ends while the app is open (expiry, logout elsewhere) leads to the login page."""
    page = ui.page
    ui.goto("/inventory")
    page.wait_for_selector("table[data-kind=targets] tbody tr")
    page.context.clear_cookies()
    page.get_by_role("link", name="Executions").click()
    page.wait_for_url(re.compile(r"/login\?next=%2Fexecutions&expired=1$"))
    expect(page.get_by_text("Your session has ended.")).to_be_visible()
    page.get_by_label("User name").fill(ADMIN)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/executions")
    expect(page.locator("bd-executions-page .pager p")).to_have_text(re.compile(r"^(Showing|No executions)"))


def test_a_viewer_is_offered_no_run_cancel_or_rerun_controls(make_ui, server):
    finished = start(server, "/api/commands", {"targets": ["localhost"], "command": "echo done"})
    server.wait_final(finished)
    running = start(
        server, "/api/tasks/run", {"targets": ["localhost"], "task": "demo::slow", "params": {"count": 100, "interval": 0.2}}
    )
    ui = make_ui(role="viewer")
    page = ui.page
    try:
        ui.goto("/inventory")
        page.wait_for_selector("table[data-kind=targets] tbody tr")
        assert page.locator("bd-app-header .user-role").text_content() == "viewer"
        assert page.locator("bd-inventory-page input[type=checkbox]").count() == 0
        assert page.get_by_role("button", name=re.compile("^Run on")).count() == 0
        expect(page.get_by_label("Expert mode")).to_be_hidden()  # viewers are not in expert_mode_roles
        expect(page.get_by_role("link", name="Admin")).to_be_hidden()

        for path in ("/targets/localhost", "/run?targets=localhost"):
            ui.goto(path)
            expect(page.locator("bd-run-forms .role-note")).to_contain_text("viewer")
            assert page.locator("bd-run-forms form, bd-run-forms textarea").count() == 0

        ui.goto(f"/executions/{running}")
        page.wait_for_selector(".exec-state .badge[data-status=running]")
        expect(page.locator(".exec-head .role-note")).to_have_text("Your role (viewer) cannot cancel or rerun.")
        assert page.get_by_role("button", name="Cancel").count() == 0
        ui.screenshot("execution-viewer.png")

        ui.goto(f"/executions/{finished}")
        page.wait_for_selector(".exec-state .badge[data-status=success]")
        assert page.get_by_role("button", name=re.compile("^Rerun")).count() == 0

        ui.goto("/admin")
        expect(page.locator("bd-admin-page .role-note")).to_contain_text("admin role")
    finally:
        server.api("POST", f"/api/executions/{running}/cancel")


def test_a_policy_refusal_is_shown_with_the_policy_and_next_to_the_field(make_ui):
    ui = make_ui(role="operator", expert=False)
    page = ui.page
    ui.goto("/targets/localhost")
    page.locator("textarea[name=command]").fill("rm -rf /tmp/nothing-here")
    with page.expect_response(re.compile(r"/api/commands$")) as answer:
        page.get_by_role("button", name="Run command").click()
    assert answer.value.status == 403
    error = answer.value.json()["error"]
    assert error["code"] == "policy_denied"
    field_error = page.locator("[data-field=command] .field-error")
    expect(field_error).to_have_text(error["details"]["command"][0])
    form_error = page.locator("form[aria-label='Run command'] .form-error")
    expect(form_error).to_have_text(error["message"])
    assert "policy.roles.operator.commands" in form_error.text_content()
    assert page.url.endswith("/targets/localhost")


def test_admin_page_shows_the_login_in_the_audit_log_and_revokes_a_token(ui, server):
    created = server.api("POST", "/api/tokens", json={"user": ADMIN, "name": "revoke-me"})
    assert created.status_code == 201, created.text
    token = created.json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert server.api("GET", "/api/auth/me", headers=bearer).status_code == 200

    page = ui.page
    ui.goto("/inventory")
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url(server.url + "/admin")
    logins = page.locator("table.audit tbody tr[data-action=login]")
    logins.first.wait_for()
    assert logins.first.locator("td").nth(1).text_content() == ADMIN
    assert page.get_by_label("Role of admin").input_value() == "admin"

    page.get_by_label("User", exact=True).fill(ADMIN)
    page.get_by_label("logout", exact=True).check()
    page.get_by_label("login", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/admin\?user=admin&action=login%2Clogout$"))
    expect(page.locator(".pager p")).to_contain_text("newest first")
    # the filtered page replaces the unfiltered rows when its answer arrives: wait for that
    others = page.locator("table.audit tbody tr:not([data-action=login]):not([data-action=logout])")
    expect(others).to_have_count(0)
    actions = page.locator("table.audit tbody tr").evaluate_all("rows => rows.map((r) => r.dataset.action)")
    assert actions and set(actions) <= {"login", "logout"}

    row = page.locator(f"table.tokens tbody tr[data-id='{token['id']}']")
    assert row.get_attribute("data-state") == "active"
    row.get_by_role("button", name="Revoke token revoke-me of admin").click()
    expect(page.locator(f"table.tokens tbody tr[data-id='{token['id']}']")).to_have_attribute("data-state", "revoked")
    assert server.api("GET", "/api/auth/me", headers=bearer).status_code == 401
    ui.screenshot("admin.png")
