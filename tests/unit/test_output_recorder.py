"""Coalescing (not debouncing) and the output cap, on a real SQLite event log."""

from __future__ import annotations

import json

import gevent
import pytest

from boltdeck.executions.log import EventLog, OutputRecorder
from boltdeck.storage import ExecutionStore


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def store(tmp_path):
    found = ExecutionStore(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    yield found
    found.dispose()


def _recorder(store, published, window=0.005, cap=1_000_000, clock=None):
    log = EventLog(store, lambda eid, ev: published.append(ev), "e1")
    return OutputRecorder(log, window, cap, clock=clock or Clock())


def _texts(store):
    return [(e.type, e.target, json.loads(e.body)["data"]["text"]) for e in store.read_events("e1")]


def test_output_recorder_first_chunk_after_quiet_goes_out_at_once(store):
    published = []
    clock = Clock()
    recorder = _recorder(store, published, clock=clock)
    recorder.output("stdout", "web01", "one\n")
    assert [e.seq for e in published] == [1]  # not held back by any timer
    clock.now += 1.0
    recorder.output("stdout", "web01", "two\n")
    assert len(published) == 2


def test_output_recorder_merges_chunks_within_the_window(store):
    published = []
    clock = Clock()
    recorder = _recorder(store, published, clock=clock)
    recorder.output("stdout", "web01", "a\n")
    clock.now += 0.001
    recorder.output("stdout", "web01", "b\n")
    recorder.output("stdout", "web01", "c\n")
    assert len(published) == 1
    gevent.sleep(0.02)  # the window closes: the pending chunks go out as one event
    assert _texts(store) == [("stdout", "web01", "a\n"), ("stdout", "web01", "b\nc\n")]


def test_output_recorder_keeps_order_across_streams_and_events(store):
    published = []
    clock = Clock()
    recorder = _recorder(store, published, clock=clock)
    recorder.output("stdout", "t", "1\n")
    recorder.output("stderr", "t", "2\n")
    recorder.output("stdout", "t", "3\n")
    recorder.event("result", {"target": "t"}, target="t")
    types = [(e.type, json.loads(e.body)["data"].get("text")) for e in store.read_events("e1")]
    assert types == [("stdout", "1\n"), ("stderr", "2\n"), ("stdout", "3\n"), ("result", None)]


def test_output_recorder_cap_truncates_once_and_runs_on(store):
    published = []
    recorder = _recorder(store, published, window=0, cap=10)
    recorder.output("stdout", "t", "12345678\n")  # 9 bytes
    recorder.output("stdout", "t", "abcdef\n")  # crosses the cap
    recorder.output("stdout", "t", "more\n")
    recorder.event("result", {"target": "t"}, target="t")
    events = store.read_events("e1")
    stdout = "".join(json.loads(e.body)["data"]["text"] for e in events if e.type == "stdout")
    notices = [json.loads(e.body)["data"] for e in events if e.type == "log"]
    assert stdout == "12345678\na"
    assert len(notices) == 1 and notices[0]["truncated"] is True
    assert events[-1].type == "result"
    assert recorder.dropped_bytes == len("bcdef\n") + len("more\n")


def test_output_recorder_stored_before_published(store):
    seen_in_store = []

    def publish(execution_id, event):
        seen_in_store.append([e.seq for e in store.read_events(execution_id)][-1] == event.seq)

    log = EventLog(store, publish, "e1")
    recorder = OutputRecorder(log, 0.0, 1000)
    recorder.output("stdout", None, "x\n")
    recorder.event("status", {"status": "running"})
    assert seen_in_store == [True, True]
