"""Per-user limit on open streams (SSE, WebSocket, streamed run requests)."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from ..errors import RateLimitedError


class StreamLimiter:
    """Counts open streams per user name (not per address: a proxy puts everyone on one address)."""

    def __init__(self, per_user: int):
        self.per_user = per_user
        self.open: Counter[str] = Counter()

    def acquire(self, user: str) -> Callable[[], None]:
        """Take a slot for `user` or raise 429; returns the release, which is safe to call twice."""
        if self.open[user] >= self.per_user:
            raise RateLimitedError(
                f"you have {self.open[user]} streams open, the most one user may hold; close one first",
                code="too_many_streams",
                details={"openStreams": self.open[user], "limit": self.per_user},
                headers={"Retry-After": "1"},
            )
        self.open[user] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.open[user] -= 1
                if self.open[user] <= 0:
                    del self.open[user]

        return release
