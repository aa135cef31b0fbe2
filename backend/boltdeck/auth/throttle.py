"""Login throttling: failed attempts counted per account and per client address, in a sliding window."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable

from ..errors import RateLimitedError


class LoginThrottle:
    """Refuses a login (429) after too many recent failures for its account or from its client.

    Failures only are counted: a user who types their password right is never slowed down by
    their own successes, and a success clears their account's count. Kept in memory: a restart
    forgets the counts, which costs an attacker a restart they cannot cause.
    """

    def __init__(
        self,
        per_account: int,
        per_client: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limits = {"account": per_account, "client": per_client}
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._swept = clock()

    def check(self, account: str, client: str) -> None:
        """Raise RateLimitedError (with Retry-After) when this account or client must wait."""
        now = self.clock()
        for scope, key in (("account", account), ("client", client)):
            failures = self._recent((scope, key), now)
            if len(failures) >= self.limits[scope]:
                wait = max(1, math.ceil(failures[0] + self.window - now))
                raise RateLimitedError(
                    f"too many failed logins for this {scope}; try again in {wait} s",
                    details={"retryAfterSeconds": wait, "scope": scope},
                    headers={"Retry-After": str(wait)},
                )

    def failed(self, account: str, client: str) -> None:
        now = self.clock()
        if now - self._swept >= self.window:  # drop offenders that went quiet: the table stays small
            self._swept = now
            for key in list(self._failures):
                self._recent(key, now)
        for key in (("account", account), ("client", client)):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account: str) -> None:
        self._failures.pop(("account", account), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        """The failures of `key` still inside the window (an entry with none left is removed)."""
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures
