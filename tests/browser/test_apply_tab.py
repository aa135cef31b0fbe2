"""Issue 15's Apply tab in real Chromium: `bolt apply` of inline Puppet code, in noop, from a node's run forms."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_apply_tab_runs_inline_code_in_noop(ui):
    if not shutil.which("puppet"):
        pytest.skip("puppet not found: apt-get install puppet-agent (Debian's Puppet 7)")
    page = ui.page
    ui.goto("/targets/localhost")
    page.get_by_role("tab", name="Apply").click()
    form = page.get_by_role("form", name="Run apply")
    form.get_by_label("Manifest file").check()
    assert form.locator("input[name=manifest]").is_visible() and form.locator("textarea[name=code]").is_hidden()
    form.get_by_label("Inline code").check()
    form.locator("textarea[name=code]").fill("notify { 'hi': }")
    assert form.get_by_label("No-op (report what would change)").is_checked()  # changing is a choice
    with page.expect_request(re.compile(r"/api/apply/runs$")) as request:
        form.get_by_role("button", name="Run apply").click()
    assert json.loads(request.value.post_data) == {
        "targets": ["localhost"], "code": "notify { 'hi': }", "noop": True, "expertMode": True,
    }
    ui.execution_id()
    page.wait_for_selector(".exec-state .badge[data-status=success]", timeout=60_000)
    # the resource view draws the result's summary a frame after the badge changed
    expect(page.locator(".resource-entry[data-status=noop] .resource-name")).to_have_text(["Notify[hi]"])
