"""The objects one app shares, kept in app.extensions["boltdeck"]."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from .bolt.cli import BoltCli
from .config import Settings
from .executions.service import ExecutionService
from .storage import ExecutionStore
from .streaming import InProcessBroker, StreamingExecutionManager


@dataclass
class Services:
    settings: Settings
    store: ExecutionStore
    bolt: BoltCli
    streams: StreamingExecutionManager
    executions: ExecutionService


def init_app(app, settings: Settings) -> Services:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = ExecutionStore(settings.database_url)
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
    found = Services(settings, store, bolt, streams, executions)
    app.extensions["boltdeck"] = found
    return found


def services() -> Services:
    return current_app.extensions["boltdeck"]
