"""Per-user limit on open streams."""

from __future__ import annotations

import pytest

from boltdeck.errors import RateLimitedError
from boltdeck.streaming.limits import StreamLimiter


def refused(limiter: StreamLimiter, user: str) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as caught:
        limiter.acquire(user)
    return caught.value


def test_stream_limits_refuse_past_the_limit():
    limiter = StreamLimiter(per_user=3)
    for _ in range(3):
        limiter.acquire("alice")
    error = refused(limiter, "alice")
    assert error.status == 429
    assert error.code == "too_many_streams"
    assert error.details == {"openStreams": 3, "limit": 3}
    assert "Retry-After" in error.headers
    assert limiter.open["alice"] == 3  # a refusal takes no slot


def test_stream_limits_release_frees_a_slot():
    limiter = StreamLimiter(per_user=2)
    first = limiter.acquire("alice")
    limiter.acquire("alice")
    refused(limiter, "alice")
    first()
    limiter.acquire("alice")
    refused(limiter, "alice")


def test_stream_limits_release_twice_frees_only_one_slot():
    limiter = StreamLimiter(per_user=2)
    first = limiter.acquire("alice")
    limiter.acquire("alice")
    first()
    first()
    assert limiter.open["alice"] == 1
    limiter.acquire("alice")
    refused(limiter, "alice")


def test_stream_limits_are_per_user():
    limiter = StreamLimiter(per_user=1)
    release_alice = limiter.acquire("alice")
    refused(limiter, "alice")
    release_bob = limiter.acquire("bob")
    refused(limiter, "bob")
    release_alice()
    assert limiter.open["bob"] == 1
    limiter.acquire("alice")
    release_bob()
    release_bob()  # bob's second release must not free a slot of alice's
    assert limiter.open["alice"] == 1
    refused(limiter, "alice")


def test_stream_limits_many_cycles_leave_nothing_open():
    limiter = StreamLimiter(per_user=5)
    for i in range(1000):
        releases = [limiter.acquire("alice") for _ in range(1 + i % 5)]
        for release in releases:
            release()
            release()
    assert limiter.open["alice"] == 0
    assert "alice" not in limiter.open
    for _ in range(5):
        limiter.acquire("alice")
    refused(limiter, "alice")
