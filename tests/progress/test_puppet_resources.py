"""The Puppet resource view on real captures: its counts are Puppet's own summary's."""

from __future__ import annotations

import json

import pytest

from boltdeck.bolt.apply_output import items_of, report_of
from boltdeck.progress import ResourceView, readable
from boltdeck.progress.puppet import resource_event

from .helpers import FIXTURES, lines_of, puppet_summary


def view_of(name: str) -> ResourceView:
    view = ResourceView()
    for line in lines_of(name):
        event = resource_event(readable(line))
        if event is not None:
            view.add(event)
    return view


@pytest.mark.parametrize("name", ["puppet_apply_changes.out", "puppet_apply_failure.out", "puppet_apply_noop.out"])
def test_the_counts_of_a_puppet_apply_are_those_of_its_summary(name):
    summary = puppet_summary(name)
    counts = view_of(name).counts()
    assert counts["changed"] == summary["resources"].get("changed", 0)
    assert counts["failed"] == summary["resources"].get("failed", 0)
    assert counts["skipped"] == summary["resources"].get("skipped", 0)
    assert counts["noop"] == summary["events"].get("noop", 0)


def test_a_failing_run_lists_each_resource_with_its_worst_status_and_message():
    entries = {e["resource"]: e for e in view_of("puppet_apply_failure.out").summary()["resources"]}
    assert {name: e["status"] for name, e in entries.items()} == {
        "File[/tmp/boltdeck-demo]": "changed",
        "File[/tmp/boltdeck-demo/motd]": "changed",
        "File[/tmp/boltdeck-demo/extra]": "changed",
        "Exec[failing-step]": "failed",
        "Notify[after-failure]": "skipped",
    }
    assert "returned 1 instead of one of [0]" in entries["Exec[failing-step]"]["message"]


def test_a_resource_changed_twice_counts_once():
    """The motd content change prints a diff header line and a `content changed` line."""
    view = view_of("puppet_apply_changes.out")
    assert [e["resource"] for e in view.summary()["resources"]] == [
        "File[/tmp/boltdeck-demo/motd]", "File[/tmp/boltdeck-demo/extra]", "Notify[configured]",
    ]


def test_drain_gives_only_what_changed_since_the_last_drain():
    view = view_of("puppet_apply_failure.out")
    first = view.drain()
    assert len(first["resources"]) == 5 and first["counts"]["failed"] == 1
    assert view.drain() is None


def report_view(name: str) -> tuple[ResourceView, dict]:
    [item] = items_of((FIXTURES / name).read_text().strip())
    report = report_of(item)
    return ResourceView.from_report(report), report


def test_a_bolt_apply_noop_report_lists_noop_resources_and_its_apply_time():
    view, report = report_view("bolt_apply_noop.stdout")
    summary = view.summary()
    assert report["noop"] is True
    assert (summary["noop"], summary["changed"], summary["failed"]) == (2, 0, 0)
    assert summary["applySeconds"] > 0
    assert {e["status"] for e in summary["resources"]} == {"noop"}


def test_a_bolt_apply_failure_report_counts_as_its_metrics_do():
    view, report = report_view("bolt_apply_fail.stdout")
    metrics = {key: value for key, _, value in report["metrics"]["resources"]["values"]}
    counts = view.counts()
    assert (counts["failed"], counts["changed"]) == (metrics["failed"], metrics["changed"]) == (1, 0)


def test_apply_output_that_is_not_whole_json_reads_as_none():
    text = (FIXTURES / "bolt_apply_fail.stdout").read_text().strip()
    assert items_of(text[: len(text) // 2]) is None
    assert items_of(json.dumps({"target": "x"})) is None
