"""Coalescing by backpressure (not by timer), the pace under sustained load, the output cap, event bodies.

On a real SQLite event log.
"""

from __future__ import annotations

import json

import gevent
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boltdeck.errors import StorageError
from boltdeck.executions.log import BURST_EVENTS, GATHER, MAX_CHUNK_BYTES, EventLog, OutputRecorder
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


def _slow_publisher(clock: Clock, published: list, seconds: float):
    """A publisher whose fan-out takes `seconds` (of the test's clock)."""

    def publish(execution_id, event):
        published.append(event)
        clock.now += seconds

    return publish


def test_output_recorder_merges_what_comes_while_an_event_goes_out(store):
    """Coalescing by backpressure: no timer. What the recording greenlet takes in while an
    event is going out is one event, appended as soon as that greenlet lets go."""
    published = []
    clock = Clock()
    recorder = OutputRecorder(EventLog(store, _slow_publisher(clock, published, 0.001), "e1"), 0.005, 10**6, clock)
    recorder.output("stdout", "web01", "a\n")
    recorder.output("stdout", "web01", "b\n")
    recorder.output("stdout", "web01", "c\n")
    assert len(published) == 1  # a went out at once; b and c came before this greenlet let go
    gevent.sleep(0)  # it lets go (it would wait for bolt's pipe): no window to wait for
    assert _texts(store) == [("stdout", "web01", "a\n"), ("stdout", "web01", "b\nc\n")]
    recorder.output("stdout", "web01", "d\n")
    assert len(published) == 3  # nothing under way any more: at once


def test_output_recorder_greenlet_that_never_lets_go_still_sends_as_events_go_out(store):
    """bolt printing without pause: each event gathers GATHER times as long as the last one took."""
    published, at = [], []
    clock = Clock()

    def publish(execution_id, event):
        published.append(event)
        at.append(clock.now)
        clock.now += 0.001  # each event takes 1 ms to go out

    recorder = OutputRecorder(EventLog(store, publish, "e1"), 0.005, 10**6, clock)
    for i in range(100):  # a line every 0.1 ms, 10 ms in all, and no yield
        recorder.output("stdout", "t", f"{i}\n")
        clock.now += 0.0001
    gaps = [b - a for a, b in zip(at, at[1:])]
    assert len(published) >= 3 and min(gaps) >= (GATHER + 1) * 0.001 - 1e-9, gaps  # out, then gathered
    recorder.flush()
    assert "".join(t for _, _, t in _texts(store)) == "".join(f"{i}\n" for i in range(100))


def test_output_recorder_pending_streams_and_targets_are_one_transaction_in_order(store):
    stored_when_published = []

    def publish(execution_id, event):
        stored_when_published.append(store.last_seq(execution_id))

    recorder = OutputRecorder(EventLog(store, publish, "e1"), 0.005, 1_000_000)
    recorder.output("stdout", "web01", "first\n")
    for target, stream, text in [("web01", "stdout", "1\n"), ("web02", "stdout", "2\n"), ("web01", "stderr", "3\n"),
                                 ("web01", "stderr", "4\n"), ("web02", "stdout", "5\n")]:
        recorder.output(stream, target, text)
    gevent.sleep(0)
    assert _texts(store) == [("stdout", "web01", "first\n"), ("stdout", "web01", "1\n"), ("stdout", "web02", "2\n"),
                             ("stderr", "web01", "3\n4\n"), ("stdout", "web02", "5\n")]
    assert stored_when_published == [1, 5, 5, 5, 5]  # the four pending events were stored together


def test_output_recorder_paces_sustained_output_after_a_burst(store):
    """Under sustained load at most one event per window once BURST_EVENTS have gone out."""
    published = []
    clock = Clock()
    recorder = _recorder(store, published, window=0.005, clock=clock)
    for i in range(BURST_EVENTS + 5):  # each chunk in its own turn: every one could go out at once
        recorder.output("stdout", "t", f"{i}\n")
        gevent.sleep(0)
    assert len(published) == BURST_EVENTS  # the clock stood still: the rest waits for the pace
    gevent.sleep(0.02)
    assert len(published) == BURST_EVENTS
    clock.now += 0.006  # a window later: one event, with everything that waited
    gevent.sleep(0.02)
    assert len(published) == BURST_EVENTS + 1
    assert "".join(t for _, _, t in _texts(store)) == "".join(f"{i}\n" for i in range(BURST_EVENTS + 5))
    clock.now += 10  # quiet for long: a full burst allowance again, not more
    for i in range(BURST_EVENTS + 1):
        recorder.output("stdout", "t", "x\n")
        gevent.sleep(0)
    assert len(published) == 2 * BURST_EVENTS + 1


def test_output_recorder_without_window_has_no_pace(store):
    published = []
    recorder = _recorder(store, published, window=0)
    for i in range(3 * BURST_EVENTS):
        recorder.output("stdout", "t", f"{i}\n")
        gevent.sleep(0)
    assert len(published) == 3 * BURST_EVENTS


def test_output_recorder_flood_is_few_events_of_bounded_size(store):
    published = []
    clock = Clock()
    recorder = OutputRecorder(EventLog(store, _slow_publisher(clock, published, 0.001), "e1"), 0.005, 10**6, clock)
    line = "x" * 99 + "\n"
    for _ in range(5000):  # 500 KB taken in without yielding, like a pipe that never runs dry
        recorder.output("stdout", "t", line)
    recorder.flush()
    sizes = [len(json.loads(e.body)["data"]["text"]) for e in published]
    assert sum(sizes) == 5000 * 100
    assert len(published) <= 2 + 500_000 // MAX_CHUNK_BYTES and max(sizes) < MAX_CHUNK_BYTES + 100


def test_output_recorder_failed_deferred_write_surfaces_at_the_next_output(store):
    published = []
    clock = Clock()
    recorder = OutputRecorder(EventLog(store, _slow_publisher(clock, published, 0.001), "e1"), 0.005, 10**6, clock)
    recorder.output("stdout", "t", "one\n")  # seq 1, at once
    store.append_event("e1", 2, "stdout", "t", "{}")  # seq 2 is taken: the next write is refused
    recorder.output("stdout", "t", "two\n")
    gevent.sleep(0)
    with pytest.raises(StorageError):
        recorder.output("stdout", "t", "three\n")
    assert [e.seq for e in published] == [1]


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


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["stdout", "stderr", "log", "result"]),
    st.one_of(st.none(), st.text(min_size=1)),
    st.one_of(
        st.builds(lambda t: {"text": t}, st.text()),
        st.builds(lambda t: {"text": t * 40}, st.text(min_size=1, max_size=20)),  # long: the fast path
        st.dictionaries(st.text(), JSON_VALUES, max_size=4),
    ),
)
def test_event_log_body_is_exactly_what_json_dumps_writes(type_, target, data):
    """Event bodies are put together by hand (long strings fast): byte for byte json.dumps."""
    event = EventLog(None, None, "e1")._event(7, type_, data, target)
    timestamp = json.loads(event.body)["timestamp"]
    expected = {"seq": 7, "type": type_, "executionId": "e1", "timestamp": timestamp, "target": target, "data": data}
    assert event.body == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))


def test_event_log_body_long_text_cases():
    for unit in ["a\nb\n", 'say "hi"\n', "back\\slash\n", "tab\there\n", "bell\x07\n", "\x7f", "é✓\n", "\ud800"]:
        text = unit * 300
        body = EventLog(None, None, "e1")._event(1, "stdout", {"text": text, "n": 1}, "t").body
        assert json.loads(body)["data"] == {"text": text, "n": 1}
