"""Progress bars and the Puppet resource view in real Chromium, without expert mode."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .helpers import start

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "progress" / "fixtures"


def test_a_puppet_run_shows_its_progress_and_resources_while_it_runs(make_ui, server, tmp_path):
    puppet = shutil.which("puppet")
    if not puppet:
        pytest.skip("puppet not found: apt-get install puppet-agent (Debian's Puppet 7)")
    root = tmp_path / "managed"
    manifest = tmp_path / "demo.pp"
    manifest.write_text((FIXTURES / "demo.pp").read_text().replace("/tmp/boltdeck-demo", str(root)))
    # the run goes on for a while after Puppet ends, so "before the end" is something to see
    command = f"{puppet} apply --test --color=false {shlex.quote(str(manifest))}; sleep 8"
    execution_id = start(server, "/api/commands", {"targets": ["localhost"], "command": command})
    ui = make_ui(expert=False)
    page = ui.page
    ui.goto(f"/executions/{execution_id}")

    failed = page.locator(".resource-entry[data-status=failed] .resource-name")
    failed.wait_for(timeout=60_000)
    assert page.locator(".exec-state .badge").text_content() == "Running"
    assert failed.text_content() == "Exec[failing-step]"
    bar = page.locator(".progress-target[data-target=localhost]")
    # Puppet goes on after the failure (Notify[after-failure] is skipped), so wait for its end
    expect(bar.locator(".progress-phase")).to_contain_text("catalog applied", timeout=30_000)
    expect(page.locator(".resource-count[data-status=changed]")).to_have_text("changed 3")
    assert page.locator(".exec-state .badge").text_content() == "Running"
    assert not page.locator(".ln-out").count()  # the output itself waits for the result (no expert mode)
    ui.screenshot("puppet-resources-running.png")

    page.get_by_role("radio", name="failed", exact=True).check()
    assert page.locator(".resource-entry").count() == 1
    page.get_by_role("radio", name="All", exact=True).check()
    assert page.locator(".resource-entry").count() == 5

    page.wait_for_selector(".exec-state .badge[data-status]:not([data-status=running])", timeout=20_000)
    page.wait_for_selector(".progress-target[data-state=success]")  # the command's exit is sleep's
    expect(page.locator(".resource-entry")).to_have_count(5)  # the stored summary, as streamed (drawn a frame later)


def test_a_finished_run_shows_each_targets_last_progress(make_ui, server):
    command = f"cat {shlex.quote(str(FIXTURES / 'apt_install_fancy_pty.out'))}"
    execution_id = start(server, "/api/commands", {"targets": ["localhost", "local2"], "command": command})
    server.wait_final(execution_id)
    ui = make_ui(expert=False)
    page = ui.page
    ui.goto(f"/executions/{execution_id}")
    for target in ("localhost", "local2"):
        row = page.locator(f".progress-target[data-target={target}]")
        # the page replays the stored events, so the row may show an earlier phase first
        expect(row.locator(".progress-phase")).to_have_text("apt: processing triggers man-db 92%")
        expect(row).to_have_attribute("data-state", "success")
