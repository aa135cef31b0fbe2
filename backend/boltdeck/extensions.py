"""The objects one app shares, kept in app.extensions["boltdeck"]."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from .auth import AccountService, AuditLog, LoginThrottle, PolicySource
from .bolt.cli import BoltCli
from .config import Settings
from .executions.service import ExecutionService
from .storage import AccountStore, ExecutionStore
from .streaming import InProcessBroker, StreamingExecutionManager
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


def init_app(app, settings: Settings) -> Services:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = ExecutionStore(settings.database_url, busy_seconds=settings.database_busy_seconds)  # upgrades the schema
    bolt = BoltCli(
        bin=settings.bolt_bin,
        project=settings.bolt_project,
        cache_seconds=settings.inventory_cache_seconds,
        facts_cache_seconds=settings.facts_cache_seconds,
    )
    streams = StreamingExecutionManager(
        store, InProcessBroker(), settings.sse_heartbeat_seconds, settings.subscriber_queue_size
    )
    executions = ExecutionService(settings, store, bolt, streams)
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
    )
    app.extensions["boltdeck"] = found
    return found


def services() -> Services:
    return current_app.extensions["boltdeck"]
