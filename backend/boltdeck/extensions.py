"""The objects one app shares, kept in app.extensions["boltdeck"]."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from .auth import AccountService, AuditLog, LoginThrottle, PolicySource
from .auth.ratelimit import RateLimiter
from .bolt.cli import BoltCli
from .cluster import Worker, this_worker
from .cluster.coordinator import Coordinator
from .config import Settings
from .executions.service import ExecutionService
from .redaction import ControlEscapingFormatter
from .storage import AccountStore, ExecutionStore
from .streaming import Broker, InProcessBroker, StreamingExecutionManager
from .streaming.limits import StreamLimiter


@dataclass
class Services:
    settings: Settings
    store: ExecutionStore
    bolt: BoltCli
    streams: StreamingExecutionManager
    executions: ExecutionService
    accounts: AccountService
    audit: AuditLog
    policy: PolicySource
    login_throttle: LoginThrottle
    stream_limits: StreamLimiter
    facts_limits: RateLimiter
    worker: Worker
    coordinator: Coordinator


def init_app(app, settings: Settings, upgrade_schema: bool = True) -> Services:
    handler = logging.StreamHandler()  # every message escaped: client input cannot forge or colour log lines
    handler.setFormatter(ControlEscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler])
    store = ExecutionStore(settings.database_url, busy_seconds=settings.database_busy_seconds, upgrade=upgrade_schema)
    bolt = BoltCli(
        bin=settings.bolt_bin,
        project=settings.bolt_project,
        cache_seconds=settings.inventory_cache_seconds,
        facts_cache_seconds=settings.facts_cache_seconds,
        failure_cache_seconds=settings.bolt_failure_cache_seconds,
        max_calls=settings.max_bolt_metadata_calls,
        env_passthrough=settings.bolt_env_passthrough,
    )
    worker = this_worker(settings.role.lower())
    try:
        broker = make_broker(settings.broker_url, worker.id)
    except BaseException:
        store.dispose()
        raise
    streams = StreamingExecutionManager(store, broker, settings.sse_heartbeat_seconds, settings.subscriber_queue_size)
    executions = ExecutionService(settings, store, bolt, streams, worker)
    streams.active_executions = executions.active_count
    account_store = AccountStore(store)
    found = Services(
        settings,
        store,
        bolt,
        streams,
        executions,
        accounts=AccountService(account_store, settings.session_hours),
        audit=AuditLog(account_store),
        policy=PolicySource(settings.config),
        login_throttle=LoginThrottle(
            settings.login_max_failures_per_account,
            settings.login_max_failures_per_client,
            settings.login_window_seconds,
        ),
        stream_limits=StreamLimiter(settings.max_streams_per_user),
        facts_limits=RateLimiter(settings.facts_per_user_per_minute, 60.0, "facts gatherings"),
        worker=worker,
        coordinator=Coordinator(executions, settings.lease_seconds, streams.snapshot),
    )
    app.extensions["boltdeck"] = found
    return found


def make_broker(url: str, worker_id: str) -> Broker:
    """The in-process broker, or the Redis one BOLTDECK_BROKER_URL names (checked now: a bad URL stops the start)."""
    if not url:
        return InProcessBroker()
    from .streaming.redis_broker import RedisBroker

    return RedisBroker(url, worker_id)


def services() -> Services:
    return current_app.extensions["boltdeck"]
