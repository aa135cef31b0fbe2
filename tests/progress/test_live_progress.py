"""Progress and Puppet resources through the whole stack: a live server, the Bolt double, real tools."""

from __future__ import annotations

import json
import shlex
import shutil
import sys

import pytest

from ..streaming.sse_client import SSEStream
from .helpers import FIXTURES, summary_of

RATE = 4  # the default per-target rate (BOLTDECK_PROGRESS_EVENTS_PER_SECOND)
STAMP_SLACK = 0.25  # seconds: how late a progress event may be stamped after the throttle let it go


def streamed_run(server, path: str, body: dict) -> list[dict]:
    """Start a run asking for its stream (no expert mode unless `body` says so); every event until `complete`."""
    events = []
    with SSEStream(server.url + path, headers=server.auth, method="POST", body=json.dumps(body).encode(), timeout=120) as stream:
        assert stream.status == 200
        for frame in stream.events():
            events.append(frame.json)
            if frame.event == "complete":
                break
    return events


def of_type(events: list[dict], type_: str, target: str | None = "localhost") -> list[dict]:
    return [e for e in events if e["type"] == type_ and e["target"] == target]


def test_apt_progress_reaches_a_stream_without_expert_mode_and_its_output_does_not(server):
    command = f"cat {shlex.quote(str(FIXTURES / 'apt_install_fancy_pty.out'))}"
    events = streamed_run(server, "/api/commands", {"targets": ["localhost"], "command": command})
    assert not [e for e in events if e["type"] in ("stdout", "stderr", "log", "command")]
    progress = [e["data"] for e in of_type(events, "progress")]
    assert progress, [e["type"] for e in events]
    assert {p["tool"] for p in progress} <= {"apt", "dpkg"}
    assert progress[-1] == {"tool": "apt", "phase": "processing triggers", "percent": 92, "item": "man-db"}
    overall = of_type(events, "progress", None)
    assert overall[-1]["data"] == {"percent": 100, "phase": "targets", "completed": 1, "total": 1}
    # the target's last progress comes before its result, so a viewer sees where it ended
    seqs = {e["type"]: e["seq"] for e in events if e["target"] == "localhost"}
    assert seqs["progress"] < seqs["result"]


def test_a_flood_of_markers_gives_at_most_the_rate_per_target_and_the_exact_last_state(server):
    script = "import sys\nfor i in range(10000): sys.stdout.write(f'Progress: [{i % 100:3d}%]\\n')\nprint('Progress: [ 77%]')"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    events = streamed_run(server, "/api/commands", {"targets": ["localhost", "local2"], "command": command})
    for target in ("localhost", "local2"):
        progress = of_type(events, "progress", target)
        assert progress[-1]["data"]["percent"] == 77
        span = _seconds(progress[-1]["timestamp"]) - _seconds(progress[0]["timestamp"])
        # The throttle spaces its emissions by the monotonic clock; an event's timestamp is taken
        # when the event log's lock is free, which a store write of the flood may delay (by tens of
        # ms under load). STAMP_SLACK allows for that; the 10,000 markers would give far more.
        assert len(progress) <= RATE * (span + STAMP_SLACK) + 2, (len(progress), span)


def _seconds(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def puppet() -> str:
    found = shutil.which("puppet")
    if not found:
        pytest.skip("puppet not found: apt-get install puppet-agent (Debian's Puppet 7)")
    return found


def manifest(tmp_path) -> tuple[str, str]:
    """The capture's demo.pp with its files under tmp_path: three files, a failing exec, a skipped notify."""
    root = tmp_path / "managed"
    text = (FIXTURES / "demo.pp").read_text().replace("/tmp/boltdeck-demo", str(root))
    path = tmp_path / "demo.pp"
    path.write_text(text)
    return str(path), str(root)


def puppet_apply(server, puppet: str, path: str, noop: bool, summarize: bool = False) -> list[dict]:
    flags = " --noop" if noop else ""
    flags += " --summarize" if summarize else ""
    command = f"{puppet} apply --test --color=false --detailed-exitcodes{flags} {shlex.quote(path)}"
    return streamed_run(server, "/api/commands", {"targets": ["localhost"], "command": command})


def live_view(events: list[dict]) -> dict[str, str]:
    """The resource view a viewer builds from `resources` events: resource -> status."""
    view = {}
    for event in of_type(events, "resources"):
        view.update({entry["resource"]: entry["status"] for entry in event["data"]["resources"]})
    return view


def test_a_real_puppet_apply_streams_its_resources_and_stores_puppets_own_counts(server, puppet, tmp_path):
    path, root = manifest(tmp_path)
    events = puppet_apply(server, puppet, path, noop=False)
    assert live_view(events) == {
        f"File[{root}]": "changed",
        f"File[{root}/motd]": "changed",
        f"File[{root}/extra]": "changed",
        "Exec[failing-step]": "failed",
        "Notify[after-failure]": "skipped",
    }
    [result] = of_type(events, "result")
    summary = result["data"]["puppet"]
    assert (summary["changed"], summary["failed"], summary["skipped"], summary["noop"]) == (3, 1, 1, 0)
    assert summary["applySeconds"] > 0
    last_counts = of_type(events, "resources")[-1]["data"]["counts"]
    assert last_counts == {k: summary[k] for k in ("changed", "failed", "noop", "skipped")}
    stored = server.api("GET", f"/api/executions/{events[0]['executionId']}").json()["results"][0]
    assert stored["puppet"] == summary  # kept with the result, for history's detail


def test_a_real_puppet_noop_run_lists_noop_resources_matches_its_summary_and_changes_nothing(server, puppet, tmp_path):
    path, root = manifest(tmp_path)
    events = puppet_apply(server, puppet, path, noop=True, summarize=True)
    assert set(live_view(events).values()) == {"noop"}
    [result] = of_type(events, "result")
    summary = result["data"]["puppet"]
    puppets_own = summary_of(result["data"]["stdout"].split("\n"))
    assert summary["noop"] == puppets_own["events"]["noop"] == 5
    assert summary["changed"] == puppets_own["resources"].get("changed", 0) == 0
    assert not (tmp_path / "managed").exists()
