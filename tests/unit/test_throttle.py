"""Login throttling: failures per account and per client in a sliding window, on a fake clock."""

from __future__ import annotations

import pytest
from boltdeck.auth.throttle import LoginThrottle
from boltdeck.errors import RateLimitedError

WINDOW = 60.0


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def throttle(clock: FakeClock, per_account: int = 3, per_client: int = 10) -> LoginThrottle:
    return LoginThrottle(per_account=per_account, per_client=per_client, window_seconds=WINDOW, clock=clock)


def refused(limiter: LoginThrottle, account: str, client: str) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as caught:
        limiter.check(account, client)
    return caught.value


def test_throttle_refuses_an_account_after_its_failures():
    clock = FakeClock()
    limiter = throttle(clock, per_account=3)
    for _ in range(2):
        limiter.failed("alice", "10.0.0.1")
        clock.advance(1)
    limiter.check("alice", "10.0.0.1")  # two failures: still allowed
    limiter.failed("alice", "10.0.0.1")
    error = refused(limiter, "alice", "10.0.0.1")
    assert error.status == 429
    assert error.details["scope"] == "account"
    # The oldest failure (2 s ago) leaves the window in 58 s.
    assert error.headers == {"Retry-After": "58"}
    assert error.details["retryAfterSeconds"] == 58
    assert refused(limiter, "alice", "10.9.9.9").details["scope"] == "account"  # any client


def test_throttle_leaves_other_accounts_and_clients_alone():
    clock = FakeClock()
    limiter = throttle(clock, per_account=3)
    for _ in range(3):
        limiter.failed("alice", "10.0.0.1")
    refused(limiter, "alice", "10.0.0.1")
    limiter.check("bob", "10.0.0.2")
    limiter.check("carol", "10.0.0.3")


def test_throttle_refuses_a_client_failing_across_many_accounts():
    clock = FakeClock()
    limiter = throttle(clock, per_account=3, per_client=5)
    for i in range(5):
        limiter.check(f"user{i}", "10.0.0.1")
        limiter.failed(f"user{i}", "10.0.0.1")
    error = refused(limiter, "someone-new", "10.0.0.1")
    assert error.details["scope"] == "client"
    assert int(error.headers["Retry-After"]) == 60
    limiter.check("someone-new", "10.0.0.2")
    limiter.check("user0", "10.0.0.2")  # one failure on that account: under its own limit


def test_throttle_success_clears_the_account_count():
    clock = FakeClock()
    limiter = throttle(clock, per_account=3)
    limiter.failed("alice", "10.0.0.1")
    limiter.failed("alice", "10.0.0.1")
    limiter.succeeded("alice")
    limiter.failed("alice", "10.0.0.1")
    limiter.failed("alice", "10.0.0.1")
    limiter.check("alice", "10.0.0.1")  # four failures, but only two since the success
    limiter.failed("alice", "10.0.0.1")
    refused(limiter, "alice", "10.0.0.1")


def test_throttle_success_does_not_clear_the_client_count():
    clock = FakeClock()
    limiter = throttle(clock, per_account=100, per_client=2)
    limiter.failed("alice", "10.0.0.1")
    limiter.failed("bob", "10.0.0.1")
    limiter.succeeded("alice")
    assert refused(limiter, "alice", "10.0.0.1").details["scope"] == "client"


def test_throttle_failures_expire_after_the_window():
    clock = FakeClock()
    limiter = throttle(clock, per_account=3)
    for _ in range(3):
        limiter.failed("alice", "10.0.0.1")
    clock.advance(WINDOW - 0.5)
    assert refused(limiter, "alice", "10.0.0.1").headers["Retry-After"] == "1"
    clock.advance(0.5)
    limiter.check("alice", "10.0.0.1")


def test_throttle_window_slides_one_failure_at_a_time():
    clock = FakeClock()
    limiter = throttle(clock, per_account=3)
    for _ in range(3):
        limiter.failed("alice", "10.0.0.1")
        clock.advance(10)
    # Failures at 0, 10, 20; now 30. The first leaves at 60, then one more is allowed.
    assert refused(limiter, "alice", "10.0.0.1").headers["Retry-After"] == "30"
    clock.advance(30)
    limiter.check("alice", "10.0.0.1")
    limiter.failed("alice", "10.0.0.1")
    assert refused(limiter, "alice", "10.0.0.1").headers["Retry-After"] == "10"


def test_throttle_checks_alone_add_nothing_to_the_table():
    """Bug: `_recent` deleted an empty entry, then re-created it through the defaultdict."""
    limiter = throttle(FakeClock())
    for i in range(1000):
        limiter.check(f"user{i}", f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._failures) == 0


def test_throttle_drops_expired_entries_when_they_are_seen_again():
    """Bug: `_recent` deleted an empty entry, then re-created it through the defaultdict."""
    clock = FakeClock()
    limiter = throttle(clock)
    for i in range(1000):
        limiter.failed(f"user{i}", f"10.0.{i // 256}.{i % 256}")
    clock.advance(WINDOW)
    for i in range(1000):
        limiter.check(f"user{i}", f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._failures) == 0


def test_throttle_table_stays_bounded_by_recent_offenders():
    """Waves of never-repeated account names must not pile up once their window has passed."""
    clock = FakeClock()
    limiter = throttle(clock, per_client=10_000)
    for wave in range(10):
        for i in range(200):
            limiter.failed(f"spray-{wave}-{i}", "10.0.0.1")
        clock.advance(WINDOW)
    limiter.failed("last", "10.0.0.1")
    limiter.check("last", "10.0.0.1")
    # Only the latest offenders are recent: "last" and its client.
    assert len(limiter._failures) <= 2
