"""StreamingExecutionManager: replay an execution's log from a seq, then follow it live."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import Callable, Iterator

from ..errors import NotFoundError, ValidationError
from ..executions.model import EXPERT_EVENTS, LIFECYCLE_EVENTS
from ..storage.store import ExecutionStore, StoredEvent
from .broker import Broker, Subscription
from .direct import SocketSink

HEARTBEAT = object()  # yielded by follow() when nothing happened for a heartbeat interval
REPLAY_PAGE = 500


class Follow:
    """The iterator follow() returns; stop() ends it from outside the greenlet consuming it.

    stop() is safe from an event-loop callback (a client's disconnect): it closes the
    subscription, which wakes a follower waiting for events, and the follower ends, so the
    subscriber is gone at once rather than at the next heartbeat or write.
    """

    def __init__(self) -> None:
        self.events: Iterator[StoredEvent | object] = iter(())
        self.subscription: Subscription | None = None
        self.stopped = False

    def __iter__(self) -> "Follow":
        return self

    def __next__(self) -> StoredEvent | object:
        return next(self.events)

    def stop(self) -> None:
        self.stopped = True
        if self.subscription is not None:
            self.subscription.close()

    def close(self) -> None:
        """End the follower from the greenlet consuming it (runs its clean-up)."""
        self.events.close()


@dataclass
class StreamStats:
    events_published: int = 0
    rereads: int = 0
    subscribers: Counter = field(default_factory=Counter)


class StreamingExecutionManager:
    """Registry of live subscribers; every view (SSE, WebSocket) follows the log through here."""

    def __init__(
        self,
        store: ExecutionStore,
        broker: Broker,
        heartbeat_seconds: float,
        queue_size: int,
    ):
        self.store = store
        self.broker = broker
        self.heartbeat_seconds = heartbeat_seconds
        self.queue_size = queue_size
        self.stats = StreamStats()
        self.active_executions: Callable[[], int] = lambda: 0  # set by whoever runs executions

    def publish(self, execution_id: str, event: StoredEvent) -> None:
        """Wake this execution's subscribers; call only after the event is stored."""
        self.stats.events_published += 1
        self.broker.publish(execution_id, event)

    def visible_types(self, execution_id: str, include: set[str] | None = None) -> frozenset[str]:
        """Event types a view may show: lifecycle always; output/log only in expert mode."""
        execution = self.store.get_execution(execution_id)
        if execution is None:
            raise NotFoundError(f"execution {execution_id} does not exist", details={"executionId": execution_id})
        allowed = LIFECYCLE_EVENTS | (EXPERT_EVENTS if execution["expert_mode"] else frozenset())
        return allowed if include is None else frozenset(allowed & include)

    def log_ended_by(self, execution_id: str, after: int, field: str = "after") -> bool:
        """Say whether the log already ended at or before `after`; refuse an `after` past a growing log.

        True: the last stored event is `complete` and `after` is at or past it, so nothing
        more will come (what an EventSource resuming after `complete` asks). An `after` past
        the last event of a log that has not ended is refused (ValidationError naming
        `field`): events are stored before they are published, so no client saw such an
        event, and following from there would skip `complete`. Both answers stay true as
        the log grows, so there is no race with appends made after this check.
        """
        last = self.store.last_seq(execution_id)
        if after == 0 or after < last:
            return False
        final = self.store.read_events(execution_id, after=last - 1, limit=1) if last else []
        if final and final[0].type == "complete":
            return True
        if after > last:
            raise ValidationError(
                f"{field} {after} is past the last event of execution {execution_id} (seq {last})",
                details={field: [f"must be at most {last}, the seq of the last event so far"], "lastSeq": last},
            )
        return False

    def follow(
        self,
        execution_id: str,
        after: int,
        transport: str,
        types: frozenset[str],
        idle_seconds: float | None = None,
        sink: SocketSink | None = None,
    ) -> "Follow":
        """Yield stored events with seq > after (of the given types), then live ones, until `complete`.

        Yields HEARTBEAT when idle for `idle_seconds` (default heartbeat_seconds; a stream that
        must do something periodically, such as re-check its credential, asks for less). Ends
        at once when the log ended at or before `after`. Closing the iterator or calling its
        stop() unsubscribes. With a `sink` (its `types` the same), live events that find the
        follower caught up go straight to the sink's socket and are not yielded; HEARTBEAT
        then comes every `idle_seconds` whether or not such events went out, and the iterator
        ends after the sink has sent `complete` or lost its client.
        """
        follow = Follow()
        idle = self.heartbeat_seconds if idle_seconds is None else min(idle_seconds, self.heartbeat_seconds)
        follow.events = self._follow(follow, execution_id, after, transport, types, idle, sink)
        return follow

    def _follow(
        self,
        follow: "Follow",
        execution_id: str,
        after: int,
        transport: str,
        types: frozenset[str],
        idle: float,
        sink: SocketSink | None,
    ) -> Iterator[StoredEvent | object]:
        if follow.stopped:
            return
        subscription = follow.subscription = self.broker.subscribe(execution_id, self.queue_size)
        self.stats.subscribers[transport] += 1
        try:
            last = after
            for event in self._read_from_store(execution_id, last):
                if subscription.closed:
                    return  # stopped during a long replay
                last = event.seq
                if event.type in types:
                    yield event
                if event.type == "complete":
                    return
            if last == after and self.log_ended_by(execution_id, after):
                return  # subscribed before this check, so a `complete` stored later is in the queue
            yield from self._follow_live(subscription, execution_id, last, types, idle, sink)
        finally:
            self.stats.subscribers[transport] -= 1
            subscription.close()

    def _follow_live(
        self,
        subscription: Subscription,
        execution_id: str,
        last: int,
        types: frozenset[str],
        idle: float,
        sink: SocketSink | None,
    ) -> Iterator[StoredEvent | object]:
        while True:
            if sink is not None:
                sink.last = last
            events, overflowed = subscription.get(idle, sink)
            if sink is not None:
                last = sink.last  # what the sink sent is behind us; the queue may repeat some of it
                if not sink.finish() or sink.ended:  # a frame the socket took part of is completed first
                    return
            if subscription.closed:
                return  # stopped from outside: the client went away
            if overflowed or (events and events[0].seq > last + 1):
                self.stats.rereads += overflowed
                # the queued events after the stored ones: a `complete` published when it could
                # not be stored (the store failing at the end) must still end the stream
                events = chain(self._read_from_store(execution_id, last), events)
            elif not events:
                if self.store.last_seq(execution_id) <= last:
                    yield HEARTBEAT
                    continue
                # idle, yet the store is ahead: a message was lost between processes (a
                # broker outage, a dropped `complete`), which costs one idle interval, no more
                events = self._read_from_store(execution_id, last)
            for event in events:
                if event.seq <= last:
                    continue
                last = event.seq
                if event.type in types:
                    yield event
                if event.type == "complete":
                    return

    def _read_from_store(self, execution_id: str, after: int) -> Iterator[StoredEvent]:
        while True:
            page = self.store.read_events(execution_id, after=after, limit=REPLAY_PAGE)
            yield from page
            if len(page) < REPLAY_PAGE:
                return
            after = page[-1].seq

    def snapshot(self) -> dict:
        return {
            "activeExecutions": self.active_executions(),
            "subscribers": {
                "total": sum(self.stats.subscribers.values()),
                "byTransport": {k: v for k, v in self.stats.subscribers.items() if v},
            },
            "eventsPublished": self.stats.events_published,
            "slowSubscriberRereads": self.stats.rereads,
        }
