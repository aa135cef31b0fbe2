"""StreamingExecutionManager: replay an execution's log from a seq, then follow it live."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..errors import NotFoundError
from ..executions.model import EXPERT_EVENTS, LIFECYCLE_EVENTS
from ..storage.store import ExecutionStore, StoredEvent
from .broker import Broker

HEARTBEAT = object()  # yielded by follow() when nothing happened for a heartbeat interval
REPLAY_PAGE = 500


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

    def follow(
        self, execution_id: str, after: int, transport: str, types: frozenset[str]
    ) -> Iterator[StoredEvent | object]:
        """Yield stored events with seq > after (of the given types), then live ones, until `complete`.

        Yields HEARTBEAT when idle for heartbeat_seconds. Closing the generator unsubscribes.
        """
        subscription = self.broker.subscribe(execution_id, self.queue_size)
        self.stats.subscribers[transport] += 1
        try:
            last = after
            for event in self._read_from_store(execution_id, last):
                last = event.seq
                if event.type in types:
                    yield event
                if event.type == "complete":
                    return
            while True:
                events, overflowed = subscription.get(self.heartbeat_seconds)
                if overflowed or (events and events[0].seq > last + 1):
                    self.stats.rereads += overflowed
                    events = self._read_from_store(execution_id, last)
                elif not events:
                    yield HEARTBEAT
                    continue
                for event in events:
                    if event.seq <= last:
                        continue
                    last = event.seq
                    if event.type in types:
                        yield event
                    if event.type == "complete":
                        return
        finally:
            self.stats.subscribers[transport] -= 1
            subscription.close()

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
