"""The append-only event log of one execution: seq assigned, stored, then published."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import gevent
import gevent.lock

from ..storage.store import ExecutionStore, StoredEvent
from .model import utcnow

Publisher = Callable[[str, StoredEvent], None]
OUTPUT_TYPES = ("stdout", "stderr", "log")
MAX_CHUNK_BYTES = 64 * 1024


class EventLog:
    """Append events for one execution; store first, publish second, one writer at a time."""

    def __init__(self, store: ExecutionStore, publish: Publisher, execution_id: str, next_seq: int = 1):
        self._store = store
        self._publish = publish
        self.execution_id = execution_id
        self._next_seq = next_seq
        self._lock = gevent.lock.RLock()

    def append(self, type_: str, data: dict[str, Any], target: str | None = None) -> StoredEvent:
        with self._lock:
            event = self._event(self._next_seq, type_, data, target)
            self._store.append_event(self.execution_id, event.seq, type_, target, event.body)
            self._next_seq = event.seq + 1
        self._publish(self.execution_id, event)
        return event

    def append_all(
        self, items: list[tuple[str, dict[str, Any]]], alongside: Callable[[], None]
    ) -> list[StoredEvent]:
        """Store `alongside()`'s writes and these events in one transaction, then publish the events."""
        with self._lock:
            events = [self._event(self._next_seq + i, type_, data, None) for i, (type_, data) in enumerate(items)]
            with self._store.write():
                alongside()
                for event in events:
                    self._store.append_event(self.execution_id, event.seq, event.type, None, event.body)
            self._next_seq += len(events)
        for event in events:
            self._publish(self.execution_id, event)
        return events

    def announce(self, type_: str, data: dict[str, Any]) -> StoredEvent:
        """Publish an event the store refused, without storing it (its seq stays free for the log)."""
        event = self._event(self._next_seq, type_, data, None)
        self._publish(self.execution_id, event)
        return event

    def _event(self, seq: int, type_: str, data: dict[str, Any], target: str | None) -> StoredEvent:
        body = json.dumps(
            {
                "seq": seq,
                "type": type_,
                "executionId": self.execution_id,
                "timestamp": utcnow(),
                "target": target,
                "data": data,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return StoredEvent(seq, type_, target, body)


class OutputRecorder:
    """Coalesce output into events (not debounce) and enforce the per-execution output cap.

    The first chunk after a quiet window is appended at once; chunks arriving within
    `window` seconds of the last appended one are merged per (type, target) and appended
    when the window closes. Any other event flushes pending output first, so order holds.
    """

    def __init__(self, log: EventLog, window: float, cap_bytes: int, clock: Callable[[], float] = time.monotonic):
        self.log = log
        self._window = window
        self._cap = cap_bytes
        self._clock = clock
        self._used = 0
        self.truncated = False
        self.dropped_bytes = 0
        self._pending_key: tuple[str, str | None] | None = None
        self._pending: list[str] = []
        self._pending_size = 0
        self._last_append = float("-inf")
        self._timer_armed = False
        self._timer_generation = 0

    def output(self, type_: str, target: str | None, text: str) -> None:
        """Record a chunk of stdout, stderr or log text, within the output cap."""
        # ASCII (most output) has as many bytes as characters: no need to encode just to count
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        if self.truncated:
            self.dropped_bytes += size
            return
        if self._used + size <= self._cap:
            self._used += size
            self._coalesce((type_, target), text)
            return
        encoded = text.encode("utf-8")
        kept = encoded[: self._cap - self._used].decode("utf-8", errors="ignore")
        self._used = self._cap
        self.truncated = True
        self.dropped_bytes += len(encoded) - len(kept.encode("utf-8"))
        if kept:
            self._coalesce((type_, target), kept)
        self.event("log", self._truncation_notice(target))

    def _coalesce(self, key: tuple[str, str | None], text: str) -> None:
        if self._pending and key != self._pending_key:
            self.flush()
        now = self._clock()
        if not self._pending and now - self._last_append >= self._window:
            self._append_output(key, text, now)
            return
        self._pending_key = key
        self._pending.append(text)
        self._pending_size += len(text)
        if self._pending_size >= MAX_CHUNK_BYTES:
            self.flush()
        elif not self._timer_armed:
            delay = max(0.0, self._window - (now - self._last_append))
            self._timer_armed = True
            gevent.spawn_later(delay, self._on_timer, self._timer_generation)

    def event(self, type_: str, data: dict[str, Any], target: str | None = None) -> StoredEvent:
        """Append a non-output event, after any pending output."""
        self.flush()
        return self.log.append(type_, data, target)

    def flush(self) -> None:
        if self._timer_armed:  # a timer still sleeping becomes a no-op
            self._timer_armed = False
            self._timer_generation += 1
        if self._pending:
            key, text = self._pending_key, "".join(self._pending)
            self._pending, self._pending_key, self._pending_size = [], None, 0
            self._append_output(key, text, self._clock())

    def _on_timer(self, generation: int) -> None:
        if self._timer_armed and generation == self._timer_generation:
            self.flush()

    def _append_output(self, key: tuple[str, str | None], text: str, now: float) -> None:
        self._last_append = now
        self.log.append(key[0], {"text": text}, key[1])

    def _truncation_notice(self, target: str | None) -> dict[str, Any]:
        return {
            "text": f"Output truncated: this execution reached BOLTDECK_MAX_OUTPUT_BYTES ({self._cap} bytes); "
            "later output is neither recorded nor streamed. The execution runs on and its results are kept.\n",
            "truncated": True,
            "limitBytes": self._cap,
            "atTarget": target,
        }
