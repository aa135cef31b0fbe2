"""`bolt apply` through Boltdeck, with the Bolt double and with the real Bolt (see test_scenarios.py).

Both apply with this machine's Puppet (the real Bolt through its apply helper, the double with
`puppet apply`), so the tests skip without one.
"""

from __future__ import annotations

import shutil

import pytest

from ..api.helpers import events_of


@pytest.fixture(autouse=True)
def _puppet():
    if not shutil.which("puppet"):
        pytest.skip("puppet not found: apt-get install puppet-agent (Debian's Puppet 7)")


def _apply(server, body: dict) -> dict:
    response = server.run("/api/apply/runs", {"targets": ["localhost"], **body}, wait=True)
    assert response.status_code == 200, response.text
    return response.json()


def _live_view(server, execution_id: str) -> dict[str, str]:
    view = {}
    for event in events_of(server, execution_id):
        if event["type"] == "resources" and event["target"] == "localhost":
            view.update({entry["resource"]: entry["status"] for entry in event["data"]["resources"]})
    return view


def test_apply_of_inline_code_shows_each_resource_of_the_report(bolt_server, tmp_path):
    made = tmp_path / "made-by-apply"
    code = f"file {{ '{made}': content => 'x' }}\nexec {{ '/bin/false': require => File['{made}'] }}"
    execution = _apply(bolt_server, {"code": code})
    [result] = execution["results"]
    assert result["status"] == "failure" and execution["status"] == "failed"
    summary = result["puppet"]
    assert (summary["changed"], summary["failed"], summary["noop"]) == (1, 1, 0)
    assert _live_view(bolt_server, execution["id"]) == {f"File[{made}]": "changed", "Exec[/bin/false]": "failed"}
    assert made.read_text() == "x"


def test_apply_in_noop_lists_what_would_change_and_changes_nothing(bolt_server, tmp_path):
    made = tmp_path / "never-made"
    execution = _apply(bolt_server, {"code": f"file {{ '{made}': content => 'x' }}", "noop": True})
    [result] = execution["results"]
    assert result["status"] == "success"
    assert (result["puppet"]["noop"], result["puppet"]["changed"]) == (1, 0)
    assert _live_view(bolt_server, execution["id"]) == {f"File[{made}]": "noop"}
    assert not made.exists()


def test_apply_of_a_project_manifest(bolt_server):
    execution = _apply(bolt_server, {"manifest": "manifests/hello.pp"})
    [result] = execution["results"]
    assert result["status"] == "success"
    assert result["puppet"]["resources"] == [
        {"resource": "Notify[hello from a project manifest]", "status": "changed",
         "message": "defined 'message' as 'hello from a project manifest'"}
    ]


def test_a_manifest_outside_the_project_is_refused_before_bolt_runs(bolt_server):
    response = bolt_server.run("/api/apply/runs", {"targets": ["localhost"], "manifest": "manifests/absent.pp"})
    assert response.status_code == 400 and "manifest" in response.json()["error"]["details"]
    response = bolt_server.run("/api/apply/runs", {"targets": ["localhost"], "manifest": "../x.pp"})
    assert response.status_code == 400
