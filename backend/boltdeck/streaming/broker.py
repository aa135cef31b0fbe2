"""Wake subscribers when new events of an execution are stored, and carry notices between processes.

InProcessBroker serves one process; RedisBroker (redis_broker.py) several. Events are stored
before they are published, so the store stays the source of truth: a subscriber that sees a
gap in seq, an overflow or a broker reconnecting re-reads the store, and one idle for a
heartbeat checks whether the store is ahead (manager.py). Notices (`cancel`,
`work`) are best-effort wake-ups; whoever acts on one finds the truth in the store, and
polls the store as well, so a lost notice only delays.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Callable, Protocol

import gevent
import gevent.event

from ..storage.store import StoredEvent
from .direct import SocketSink, fan_out

log = logging.getLogger(__name__)
NoticeHandler = Callable[[dict[str, Any]], None]


class Subscription(Protocol):
    closed: bool

    def get(self, timeout: float | None, sink: SocketSink | None = None) -> tuple[list[StoredEvent], bool]:
        """Wait for events; return (events in order, overflowed). Empty and False on timeout or close.

        `overflowed` says events may have been missed (a full queue, a broker that lost its
        connection): the reader re-reads the store from its last seq. With a `sink` and
        nothing queued, events published while waiting go to the sink instead of the queue
        (see direct.py), and get() returns once the sink needs its reader or on timeout; the
        reader then takes `sink.last` as its position (what came after is queued).
        """

    def close(self) -> None:
        """Unsubscribe; safe from any greenlet or event-loop callback, and wakes a waiting get()."""


class Broker(Protocol):
    """What the manager needs from a broker; an implementation for several processes slots in here."""

    def publish(self, execution_id: str, event: StoredEvent) -> None: ...

    def subscribe(self, execution_id: str, maxsize: int) -> Subscription: ...

    def subscriber_count(self, execution_id: str | None = None) -> int: ...

    def notify(self, topic: str, message: dict[str, Any]) -> None:
        """Send a notice to every process's handlers of `topic`, this process's included; best effort."""

    def on_notice(self, topic: str, handler: NoticeHandler) -> None:
        """Call `handler(message)` in a greenlet of its own for each notice of `topic`."""

    def close(self) -> None:
        """Release connections and greenlets; subscriptions end."""


class _QueueSubscription:
    """A bounded queue: when full it drops its content and says so, so the reader re-reads the store.

    While its reader waits caught up with a sink, the broker sends events to the sink and
    nothing is queued or woken; the first event the sink cannot take whole detaches it, and
    that event and those after it are queued as usual.
    """

    def __init__(self, broker: "InProcessBroker", execution_id: str, maxsize: int):
        self._broker = broker
        self.execution_id = execution_id
        self._maxsize = max(1, maxsize)
        self._queue: deque[StoredEvent] = deque()
        self._overflowed = False
        self._wakeup = gevent.event.Event()
        self._sink: SocketSink | None = None
        self.closed = False

    def push(self, event: StoredEvent) -> None:
        if len(self._queue) >= self._maxsize:
            # the reader re-reads the dropped events from the store; the newest stays queued in
            # case it is a `complete` that could only be published (the store failing at the end)
            self._queue.clear()
            self._overflowed = True
        self._queue.append(event)
        self._wakeup.set()

    def request_reread(self) -> None:
        """Make the reader re-read the store (it may have missed events), keeping what is queued."""
        self._overflowed = True
        self._wakeup.set()

    def get(self, timeout: float | None, sink: SocketSink | None = None) -> tuple[list[StoredEvent], bool]:
        if not self._queue and not self._overflowed and not self.closed:
            if sink is not None:
                self._broker._attach(self, sink)
            try:
                self._wakeup.wait(timeout)
            finally:
                self._broker._detach(self)  # from here on only the reader writes to its socket
        self._wakeup.clear()
        events, overflowed = list(self._queue), self._overflowed
        self._queue.clear()
        self._overflowed = False
        return events, overflowed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._broker._remove(self)
            self._wakeup.set()  # a follower waiting in get() ends now, not at its next heartbeat


class InProcessBroker:
    """Fan events out to subscribers in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}
        self._sinks: dict[str, dict[SocketSink, _QueueSubscription]] = {}  # those attached, per execution
        self._handlers: dict[str, list[NoticeHandler]] = {}

    def publish(self, execution_id: str, event: StoredEvent) -> None:
        """Send the event to the sinks attached in one loop, and queue it for every other subscriber."""
        attached = self._sinks.get(execution_id)
        if attached:
            for sink in fan_out(tuple(attached), event):  # these need their reader: it gets the event queued
                attached.pop(sink)._sink = None
        for subscription in tuple(self._subscribers.get(execution_id, ())):
            if subscription._sink is None:
                subscription.push(event)

    def subscribe(self, execution_id: str, maxsize: int) -> _QueueSubscription:
        subscription = _QueueSubscription(self, execution_id, maxsize)
        self._subscribers.setdefault(execution_id, set()).add(subscription)
        return subscription

    def subscriber_count(self, execution_id: str | None = None) -> int:
        if execution_id is not None:
            return len(self._subscribers.get(execution_id, ()))
        return sum(len(s) for s in self._subscribers.values())

    def notify(self, topic: str, message: dict[str, Any]) -> None:
        for handler in tuple(self._handlers.get(topic, ())):
            gevent.spawn(_call_handler, handler, topic, message)

    def on_notice(self, topic: str, handler: NoticeHandler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def close(self) -> None:
        for subscriptions in tuple(self._subscribers.values()):
            for subscription in tuple(subscriptions):
                subscription.close()
        self._handlers.clear()

    def request_reread(self, execution_id: str | None = None) -> None:
        """Make this execution's subscriptions (None: all) re-read the store at their next get()."""
        if execution_id is None:
            subscriptions = [s for group in self._subscribers.values() for s in group]
        else:
            subscriptions = list(self._subscribers.get(execution_id, ()))
        for subscription in subscriptions:
            subscription.request_reread()

    def _attach(self, subscription: _QueueSubscription, sink: SocketSink) -> None:
        subscription._sink = sink
        self._sinks.setdefault(subscription.execution_id, {})[sink] = subscription

    def _detach(self, subscription: _QueueSubscription) -> None:
        sink, subscription._sink = subscription._sink, None
        attached = self._sinks.get(subscription.execution_id)
        if sink is not None and attached is not None:
            attached.pop(sink, None)
            if not attached:
                del self._sinks[subscription.execution_id]

    def _remove(self, subscription: _QueueSubscription) -> None:
        self._detach(subscription)
        subscribers = self._subscribers.get(subscription.execution_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.execution_id]


def _call_handler(handler: NoticeHandler, topic: str, message: dict[str, Any]) -> None:
    try:
        handler(message)
    except Exception:  # one failing handler must not stop the notices that follow
        log.exception("handling a %s notice failed", topic)
