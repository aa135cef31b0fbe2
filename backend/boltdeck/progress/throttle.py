"""Rate-limit per key: at most `rate` emissions a second each; meanwhile the latest state waits."""

from __future__ import annotations

import time
from typing import Callable, Hashable

import gevent


class Throttle:
    """Call `emit(key)` at once when the key was quiet for 1/rate s, else once when that time is up.

    What is emitted is read at emission time by `emit` itself, so a burst of offers during the
    wait collapses into one emission of the latest state; `flush` emits a waiting key now.
    """

    def __init__(self, rate: float, emit: Callable[[Hashable], None], clock: Callable[[], float] = time.monotonic):
        self._interval = 1.0 / rate
        self._emit = emit
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._timers: dict[Hashable, gevent.Greenlet] = {}

    def offer(self, key: Hashable) -> None:
        """Say the key's state changed."""
        if key in self._timers:  # an emission is already due: it will read the latest state
            return
        wait = self._last.get(key, float("-inf")) + self._interval - self._clock()
        if wait <= 0:
            self._send(key)
        else:
            self._timers[key] = gevent.spawn_later(wait, self._due, key)

    def flush(self, key: Hashable) -> None:
        """Emit the key's waiting state now (a target ended: its last state must be exact)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.kill(block=False)
            self._send(key)

    def flush_all(self) -> None:
        for key in list(self._timers):
            self.flush(key)

    def _due(self, key: Hashable) -> None:
        if self._timers.pop(key, None) is not None:
            self._send(key)

    def _send(self, key: Hashable) -> None:
        self._last[key] = self._clock()
        self._emit(key)
