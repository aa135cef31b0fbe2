"""The per-target throttle and the tracker: a flood of markers, few events, the last state exact."""

from __future__ import annotations

import time

import gevent

from boltdeck.progress import ExecutionProgress
from boltdeck.progress.throttle import Throttle


def test_a_burst_emits_once_at_once_then_once_when_the_interval_ends():
    emitted = []
    throttle = Throttle(10, lambda key: emitted.append((key, time.monotonic())))
    for _ in range(1000):
        throttle.offer("web1")
    assert len(emitted) == 1
    gevent.sleep(0.15)
    assert len(emitted) == 2 and emitted[1][1] - emitted[0][1] >= 0.09


def test_flush_emits_what_waits_now_and_keys_do_not_wait_for_each_other():
    emitted = []
    throttle = Throttle(1, emitted.append)
    throttle.offer("a")
    throttle.offer("b")
    throttle.offer("a")
    assert emitted == ["a", "b"]
    throttle.flush("a")
    throttle.flush("b")  # nothing waited for b
    assert emitted == ["a", "b", "a"]
    gevent.sleep(0)


def test_ten_thousand_markers_in_a_second_give_at_most_the_rate_and_the_exact_last_state():
    sent: list[tuple[str, dict, str, float]] = []
    progress = ExecutionProgress(lambda type_, data, target: sent.append((type_, data, target, time.monotonic())), 4)
    started = time.monotonic()
    for i in range(10_000):
        progress.observe("web1", f"Progress: [{i % 100:3d}%] [####....]")
        if i % 100 == 0:
            gevent.sleep(0.01)  # spread over about a second, as a real flood arrives
    elapsed = time.monotonic() - started
    progress.finish("web1")
    events = [s for s in sent if s[0] == "progress"]
    assert len(events) <= 4 * elapsed + 2
    assert events[-1][1] == {"tool": "apt", "phase": "installing", "percent": 99}


def test_a_dpkg_phase_keeps_the_percent_of_its_stage_until_a_new_one_is_said():
    sent = []
    progress = ExecutionProgress(lambda type_, data, target: sent.append(data), 1000)
    progress.observe("t", "Progress: [ 40%] [###...] ")
    gevent.sleep(0.01)
    progress.observe("t", "Unpacking sl (5.02-1+b1) ...")
    gevent.sleep(0.01)
    progress.observe("t", "Reading package lists... Done")
    progress.finish("t")
    assert [d.get("percent") for d in sent] == [40, 40, None]


def test_puppet_lines_feed_the_resource_view_and_its_summary():
    sent = []
    progress = ExecutionProgress(lambda type_, data, target: sent.append((type_, data)), 1000)
    progress.observe("t", "Notice: /Stage[main]/Main/File[/etc/motd]/content: content changed 'a' to 'b'\n")
    progress.observe("t", "Notice: Applied catalog in 0.05 seconds\n")
    summary = progress.finish("t")
    assert summary["changed"] == 1 and summary["applySeconds"] == 0.05
    assert ("resources", {"resources": [{"resource": "File[/etc/motd]", "status": "changed",
            "message": "content changed 'a' to 'b'"}], "counts": {"changed": 1, "failed": 0, "noop": 0, "skipped": 0},
            "applySeconds": None}) in sent
    assert progress.finish("other") is None  # a target that printed no Puppet has no summary
