"""RedisBroker: live events and notices between processes over Redis pub/sub.

Each process delivers its own publishes to its own subscribers at once (the in-process
path) and sends them to Redis from one sender greenlet; one listener greenlet per process
hands other processes' messages to local subscribers. A message carries the event itself
(seq, type, target, body), so a delivery costs no store read; an event too large to carry
travels as a wake-up, and its subscribers re-read the store. Why pub/sub and why the event
rather than a wake-up: docs/architecture.md, "Fan-out across processes" (measured).

Redis is never the truth: the store is. A message lost on the way (Redis down or
restarting, a full outbox) delays an event and never loses or reorders it: after every
(re)connection the listener makes every local subscription re-read the store, a subscriber
that sees a gap in seq re-reads it, and an idle one checks the store's last seq once per
idle interval (manager.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event

from ..errors import ConfigError
from ..redaction import mask_url
from ..storage.store import StoredEvent
from .broker import InProcessBroker

log = logging.getLogger(__name__)

SETTING = "BOLTDECK_BROKER_URL"
SCHEMES = ("redis", "rediss", "unix")
# Larger event bodies (a result with a big output) travel as wake-ups: Redis disconnects a
# subscriber whose output buffer passes 8 MB for a minute (32 MB at once), and a few such
# events in flight to every process would come close.
MAX_CARRIED_CHARS = 256 * 1024
OUTBOX_LIMIT = 10_000  # messages waiting for Redis; beyond, the oldest are dropped (the store has them)
PUBLISH_BATCH = 500  # messages sent in one pipeline round trip
CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 5.0
RECONNECT_FIRST, RECONNECT_MOST = 0.05, 1.0  # the listener's backoff, doubling
SEND_PAUSE = 0.1  # after a failed send, so a Redis that is down is not hammered per event
CLOSE_FLUSH_SECONDS = 1.0  # what close() gives queued messages to go out
WARN_EVERY = 30.0


def open_redis(url: str) -> Any:
    """Connect to the Redis `url` names and check that it answers; a ConfigError says what is wrong.

    The message names BOLTDECK_BROKER_URL and the URL with its password masked: it ends up
    in the terminal and the logs of whoever starts the server.
    """
    shown = mask_url(url)
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ConfigError(f"{SETTING}={shown} is not a Redis URL: it must start with redis://, rediss:// or unix://")
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        raise ConfigError(f"{SETTING} is set but the redis package is missing: pip install 'boltdeck[redis]'") from None
    try:
        # no retries inside redis-py: the broker's loops decide when to try again (and re-read)
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
    except ValueError as error:
        raise ConfigError(f"{SETTING}={shown} is not a valid Redis URL: {_without_password(error, url)}") from None
    try:
        client.ping()
    except redis.AuthenticationError as error:
        client.close()
        raise ConfigError(f"{SETTING}={shown}: Redis refused the credentials ({_without_password(error, url)})") from None
    except redis.RedisError as error:
        client.close()
        raise ConfigError(f"{SETTING}={shown}: cannot reach Redis: {_without_password(error, url)}") from None
    return client


def _without_password(error: Exception, url: str) -> str:
    text = str(error)
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    return text.replace(password, "***") if password else text


class RedisBroker(InProcessBroker):
    """Fan events and notices out to this process at once and to every other one through Redis.

    `worker_id` must be unique per process: a process skips the messages it sent itself,
    which reached its own subscribers and handlers when they were published. The
    constructor connects (ConfigError for a bad URL); close() at shutdown.
    """

    shared = True  # reaches other processes (the in-process broker does not)

    def __init__(self, url: str, worker_id: str, max_carried_chars: int = MAX_CARRIED_CHARS):
        super().__init__()
        self._redis = open_redis(url)
        self.worker_id = worker_id
        self._max_carried = max_carried_chars
        db = self._redis.connection_pool.connection_kwargs.get("db", 0)  # pub/sub ignores databases
        self._events_channel = f"boltdeck:{db}:events".encode()
        self._notices_channel = f"boltdeck:{db}:notices".encode()
        self._outbox: deque[tuple[bytes, str]] = deque(maxlen=OUTBOX_LIMIT)
        self._outbox_ready = gevent.event.Event()
        self._closing = False
        self._send_warnings = _Warnings("cannot publish to Redis; other processes' streams catch up from the store")
        self._listen_warnings = _Warnings("lost Redis; reconnecting, live events from other processes wait meanwhile")
        self._sender = gevent.spawn(self._send_forever)
        self._listener = gevent.spawn(self._listen_forever)

    def publish(self, execution_id: str, event: StoredEvent) -> None:
        super().publish(execution_id, event)
        body = event.body if len(event.body) <= self._max_carried else ""  # empty: a wake-up
        self._post(self._events_channel, [self.worker_id, execution_id, event.seq, event.type, event.target], body)

    def notify(self, topic: str, message: dict[str, Any]) -> None:
        super().notify(topic, message)
        self._post(self._notices_channel, [self.worker_id, topic], json.dumps(message))

    def close(self) -> None:
        self._closing = True
        self._outbox_ready.set()
        self._sender.join(timeout=CLOSE_FLUSH_SECONDS)
        gevent.killall([self._sender, self._listener])
        self._redis.close()
        super().close()

    # sending ----------------------------------------------------------------------------
    def _post(self, channel: bytes, header: list[Any], payload: str) -> None:
        """Queue a message `header-as-JSON \\n payload` for the sender; never blocks, never raises."""
        self._outbox.append((channel, json.dumps(header, separators=(",", ":")) + "\n" + payload))
        self._outbox_ready.set()

    def _send_forever(self) -> None:
        """Send queued messages in order over one connection, a pipeline per batch, until closed."""
        while True:
            self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), PUBLISH_BATCH))]
                try:
                    with self._redis.pipeline(transaction=False) as pipe:
                        for channel, message in batch:
                            pipe.publish(channel, message)
                        pipe.execute()
                except Exception as error:  # dropped: receivers re-read the store when they notice
                    self._send_warnings.warn(error)
                    gevent.sleep(SEND_PAUSE)
            if self._closing:
                return

    # receiving --------------------------------------------------------------------------
    def _listen_forever(self) -> None:
        """Follow both channels for the broker's life; after any failure, reconnect with backoff."""
        failures = 0
        while True:
            pubsub = self._redis.pubsub()
            try:
                pubsub.subscribe(self._events_channel, self._notices_channel)
                while True:
                    message = pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "message":
                        self._receive(message["channel"], message["data"])
                    elif message["type"] == "subscribe" and message["data"] == 2:
                        if failures:
                            log.info("Redis broker: listening again after %d failed attempts", failures)
                        failures = 0
                        # both channels are live: whatever was published before is in the store
                        self.request_reread()
            except Exception as error:  # any failure, the connection's or a message's: start afresh
                failures += 1
                self._listen_warnings.warn(error)
            finally:
                pubsub.close()
            gevent.sleep(min(RECONNECT_MOST, RECONNECT_FIRST * 2 ** min(failures - 1, 10)))  # no float overflow

    def _receive(self, channel: bytes, data: bytes) -> None:
        head, _, payload = data.partition(b"\n")
        header = json.loads(head)
        if header[0] == self.worker_id:
            return  # ours: delivered to this process when it was published
        if channel == self._events_channel:
            self._deliver(*header[1:], payload)
        else:
            super().notify(header[1], json.loads(payload))

    def _deliver(self, execution_id: str, seq: int, type_: str, target: str | None, body: bytes) -> None:
        if not self.subscriber_count(execution_id):
            return
        if body:
            super().publish(execution_id, StoredEvent(seq, type_, target, body.decode()))
        else:  # an event too large to carry: it is in the store
            self.request_reread(execution_id)


class _Warnings:
    """Log a recurring failure at most once per WARN_EVERY seconds, saying how often it happened."""

    def __init__(self, what: str):
        self._what = what
        self._count = 0
        self._next = 0.0

    def warn(self, error: Exception) -> None:
        self._count += 1
        now = time.monotonic()
        if now >= self._next:
            log.warning(
                "Redis broker: %s (%s: %s; %d time(s) since the last report)",
                self._what, type(error).__name__, error, self._count,
            )  # fmt: skip
            self._count = 0
            self._next = now + WARN_EVERY
