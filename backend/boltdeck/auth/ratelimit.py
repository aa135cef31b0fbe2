"""A per-user rate limit: at most `limit` actions per user in a sliding window."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable

from ..errors import RateLimitedError


class RateLimiter:
    """Counts each user's recent actions; one more than `limit` in `window_seconds` is refused (429).

    Kept in memory, like the login throttle: a restart forgets the counts.
    """

    def __init__(self, limit: int, window_seconds: float, what: str, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.what = what  # the action in words, for the message: "facts gatherings"
        self.clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._swept = clock()

    def take(self, user: str) -> None:
        """Count one action of `user`, or raise RateLimitedError (with Retry-After) when over the limit."""
        now = self.clock()
        self._sweep(now)
        recent = self._recent.setdefault(user, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            wait = max(1, math.ceil(recent[0] + self.window - now))
            raise RateLimitedError(
                f"you started {len(recent)} {self.what} in the last {self.window:g} s, the most allowed; "
                f"try again in {wait} s",
                details={"limit": self.limit, "windowSeconds": self.window, "retryAfterSeconds": wait},
                headers={"Retry-After": str(wait)},
            )
        recent.append(now)

    def _sweep(self, now: float) -> None:
        """Forget users who went quiet for a whole window: the table stays as small as the active users."""
        if now - self._swept < self.window:
            return
        self._swept = now
        for user, recent in list(self._recent.items()):
            if not recent or recent[-1] <= now - self.window:
                del self._recent[user]
