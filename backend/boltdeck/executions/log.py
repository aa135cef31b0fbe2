"""The append-only event log of one execution: seq assigned, stored, then published."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

import gevent
import gevent.lock
import orjson

from ..storage.store import ExecutionStore, StoredEvent
from .model import utcnow

log = logging.getLogger(__name__)
Publisher = Callable[[str, StoredEvent], None]
OUTPUT_TYPES = ("stdout", "stderr", "log")
MAX_CHUNK_BYTES = 64 * 1024
# Events of output that go out at once, back to back, before the pace of one per window
# applies: bursts of lines at human rates are never held, a flood still becomes few events.
BURST_EVENTS = 8
# While bolt prints without pause, output gathers for GATHER times as long as the last event
# took to be stored and fanned out: a third of the time goes to events, and a burst of a few
# hundred lines fits in the BURST_EVENTS (with 1, two in three of its events were paced).
GATHER = 2


class EventLog:
    """Append events for one execution; store first, publish second, one writer at a time."""

    def __init__(self, store: ExecutionStore, publish: Publisher, execution_id: str, next_seq: int = 1):
        self._store = store
        self._publish = publish
        self.execution_id = execution_id
        self._next_seq = next_seq
        self._lock = gevent.lock.RLock()
        self._id_json = _encode(execution_id)

    def append(self, type_: str, data: dict[str, Any], target: str | None = None) -> StoredEvent:
        return self.append_batch([(type_, data, target)])[0]

    def append_all(
        self, items: list[tuple[str, dict[str, Any]]], alongside: Callable[[], None]
    ) -> list[StoredEvent]:
        """Store `alongside()`'s writes and these events in one transaction, then publish the events."""
        return self.append_batch([(type_, data, None) for type_, data in items], alongside)

    def append_batch(
        self, items: list[tuple[str, dict[str, Any], str | None]], alongside: Callable[[], None] | None = None
    ) -> list[StoredEvent]:
        """Store these (type, data, target) events, and `alongside()`'s writes, in one transaction; then publish."""
        with self._lock:
            events = [self._event(self._next_seq + i, *item) for i, item in enumerate(items)]
            with self._store.write():
                if alongside is not None:
                    alongside()
                self._store.append_events(self.execution_id, events)
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
        parts = [_HEAD % (seq, _encode(type_), self._id_json, utcnow(), _encode(target))]
        _data_json(data, parts)
        parts.append("}")
        return StoredEvent(seq, type_, target, "".join(parts))


# What json.dumps(..., ensure_ascii=False, separators=(",", ":")) makes of an event, field for
# field, up to its data (a result's stdout is MBs: the body is joined once, not copied per part)
_HEAD = '{"seq":%d,"type":%s,"executionId":%s,"timestamp":"%s","target":%s,"data":'
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_LONG = 256  # characters from which a string value is worth orjson (below)


def _data_json(data: dict[str, Any], parts: list[str]) -> None:
    """Append `data` as json writes it, its long strings (output, a result's stdout) written by orjson.

    json's escaping of output was most of an event's encoding (~30 µs for 7 KB; 265 ms for a
    50 MB result even when done by hand with str methods). orjson escapes a string exactly as
    json does (`ensure_ascii=False`), in 104 ms for those 50 MB with the decode to text; it
    refuses lone surrogates, which json then writes. Only strings: orjson writes some floats
    in another form (`6.6e-6` for json's `6.6e-06`), and bodies stay byte for byte json's.
    """
    if not any(type(value) is str and len(value) >= _LONG for value in data.values()):
        parts.append(_encode(data))
        return
    parts.append("{")
    for i, (key, value) in enumerate(data.items()):
        parts.append(("," if i else "") + _encode(key) + ":")
        parts.append(_long_string(value) if type(value) is str and len(value) >= _LONG else _encode(value))
    parts.append("}")


def _long_string(text: str) -> str:
    try:
        return orjson.dumps(text).decode()
    except orjson.JSONEncodeError:  # a lone surrogate (orjson wants valid UTF-8)
        return _encode(text)


class OutputRecorder:
    """Turn output into events as soon as the recording greenlet lets go; enforce the output cap.

    A chunk that finds nothing under way is appended at once. What comes while an event is
    going out (bolt's pipe fills while it is stored and fanned out) is merged into the next
    event, which goes out as soon as the recording greenlet lets go (a flusher greenlet
    appends it: the pipe ran dry), or, while bolt keeps printing and the greenlet keeps
    reading, once the output has gathered twice as long as the last event took to go out. This is
    coalescing by backpressure: no timer delays a line, and the busier the fan-out, the
    larger the events. Chunks of different streams or targets pending together become
    several events, in order, stored in one transaction.

    Under sustained load a pace applies as well: after a burst of BURST_EVENTS events, at most
    one event per `window` seconds (a token bucket; 0 turns it off), so a command printing
    without pause yields few, large events instead of one per line. Any other event flushes
    pending output first (in the same transaction), so order holds.
    """

    def __init__(self, log: EventLog, window: float, cap_bytes: int, clock: Callable[[], float] = time.monotonic):
        self.log = log
        self._window = window
        self._cap = cap_bytes
        self._clock = clock
        self._used = 0
        self.truncated = False
        self.dropped_bytes = 0
        self._parts: list[tuple[tuple[str, str | None], list[str]]] = []  # pending output, per key in order
        self._pending_size = 0
        self._pending_since = 0.0  # when the oldest pending chunk came
        self._busy = 0.0  # how long the last event took to be stored and published
        self._paced_until = 0.0  # no token before then
        self._flusher: gevent.Greenlet | None = None
        self._tokens = float(BURST_EVENTS)
        self._tokens_at = self._appended_at = clock()
        self._failure: Exception | None = None  # a flusher's write that failed, for output() to raise

    def output(self, type_: str, target: str | None, text: str) -> None:
        """Record a chunk of stdout, stderr or log text, within the output cap.

        Raises what made an earlier, deferred write of output fail (the caller reports it).
        """
        if self._failure is not None:
            failure, self._failure = self._failure, None
            if self._parts and self._flusher is None:  # what came in meanwhile still goes out
                self._flusher = gevent.spawn(self._drain)
            raise failure
        # ASCII (most output) has as many bytes as characters: no need to encode just to count
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        if self.truncated:
            self.dropped_bytes += size
            return
        if self._used + size <= self._cap:
            self._used += size
            self._pend((type_, target), text)
            return
        encoded = text.encode("utf-8")
        kept = encoded[: self._cap - self._used].decode("utf-8", errors="ignore")
        self._used = self._cap
        self.truncated = True
        self.dropped_bytes += len(encoded) - len(kept.encode("utf-8"))
        if kept:
            self._pend((type_, target), kept)
        self.event("log", self._truncation_notice(target))

    def _pend(self, key: tuple[str, str | None], text: str) -> None:
        parts = self._parts
        if not parts:
            if self._sent_at_once(key, text):
                return
            parts.append((key, [text]))
            self._pending_since = self._clock()
        elif parts[-1][0] == key:  # the common case, once per line of a flood: keep it short
            parts[-1][1].append(text)
        else:
            parts.append((key, [text]))
        self._pending_size += len(text)
        if self._pending_size >= MAX_CHUNK_BYTES:
            self.flush()
            return
        now = self._clock()
        if now - self._pending_since >= GATHER * self._busy and now >= self._paced_until:
            # bolt keeps printing and this greenlet keeps reading without letting go: the next
            # event goes out from here, once output gathered for a while (see GATHER)
            wait = self._take_token()
            if wait:
                self._paced_until = now + wait  # no need to ask again before (a flood asks per line)
            else:
                self._append(self._take_pending(token=False))

    def _sent_at_once(self, key: tuple[str, str | None], text: str) -> bool:
        """Append `text` now if nothing is under way; make sure a flusher follows either way.

        Nothing is under way when the recording greenlet let go since the last event, or
        took as long to come back as that event took to go out, and the pace allows one.
        """
        free = self._flusher is None or self._clock() - self._appended_at >= self._busy
        if self._flusher is None:  # for what follows before the recording greenlet lets go
            self._flusher = gevent.spawn(self._drain)
        if free and self._take_token() == 0:
            self._append([(key[0], {"text": text}, key[1])])
            return True
        return False

    def event(self, type_: str, data: dict[str, Any], target: str | None = None) -> StoredEvent:
        """Append a non-output event after any pending output, both in one transaction."""
        items = self._take_pending()
        items.append((type_, data, target))
        return self._append(items)[-1]

    def flush(self) -> None:
        """Append pending output now (before a status change, at the end)."""
        if self._failure is not None:
            log.error("recording output failed: %s", self._failure)
            self._failure = None
        items = self._take_pending()
        if items:
            self._append(items)

    def _drain(self) -> None:
        """The flusher: append pending output whenever the pace allows, until none is left."""
        try:
            while self._parts:
                wait = self._take_token()
                if wait > 0:
                    gevent.sleep(wait)
                    continue
                self._append(self._take_pending(token=False))
        except Exception as failure:  # surfaces at the next output(), where the runner reports it
            self._failure = failure
        finally:
            self._flusher = None

    def _append(self, items: list[tuple[str, dict[str, Any], str | None]]) -> list[StoredEvent]:
        """Store and publish; how long that took is how long the next output may gather."""
        started = self._clock()
        events = self.log.append_batch(items)
        self._appended_at = self._clock()
        self._busy = self._appended_at - started
        return events

    def _take_pending(self, token: bool = True) -> list[tuple[str, dict[str, Any], str | None]]:
        """Pending output as event items, and none left pending; counts against the pace unless told."""
        if not self._parts:
            return []
        if token:
            self._take_token(force=True)
        items = [(key[0], {"text": "".join(texts)}, key[1]) for key, texts in self._parts]
        self._parts, self._pending_size = [], 0
        return items

    def _take_token(self, force: bool = False) -> float:
        """Take a token when one is there (or when forced: it may go into debt); else the seconds until one is."""
        if self._window <= 0:
            return 0.0
        now = self._clock()
        self._tokens = min(float(BURST_EVENTS), self._tokens + (now - self._tokens_at) / self._window)
        self._tokens_at = now
        if self._tokens >= 1 or force:
            self._tokens = max(self._tokens - 1, -float(BURST_EVENTS))
            return 0.0
        return (1 - self._tokens) * self._window

    def _truncation_notice(self, target: str | None) -> dict[str, Any]:
        return {
            "text": f"Output truncated: this execution reached BOLTDECK_MAX_OUTPUT_BYTES ({self._cap} bytes); "
            "later output is neither recorded nor streamed. The execution runs on and its results are kept.\n",
            "truncated": True,
            "limitBytes": self._cap,
            "atTarget": target,
        }
