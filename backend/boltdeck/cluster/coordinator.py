"""This process's part among the processes sharing a store.

It keeps the worker's lease alive, claims queued executions when it runs executions, carries
out stop requests for the ones it owns, and records as interrupted what dead workers left.
Notices from the broker (`work`, `cancel`) make it act at once; the store is polled as well,
so a lost notice only delays.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import gevent
import gevent.event

from ..errors import StorageError
from ..executions.model import CANCELLED, utcnow
from .store import Unfinished

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # the queue and stop requests are looked at this often without a notice
FORGET_WORKERS_AFTER_SECONDS = 86400.0


class Coordinator:
    def __init__(self, executions, lease_seconds: float, stats: Callable[[], dict[str, Any]]):
        self.executions = executions  # ExecutionService
        self.cluster = executions.cluster
        self.worker = executions.worker
        self.lease_seconds = lease_seconds
        self._stats = stats
        self._wake = gevent.event.Event()
        self._greenlets: list[gevent.Greenlet] = []
        self._running = False

    def start(self) -> list[str]:
        """Register this worker, recover what dead workers left, start the loops; returns the recovered ids."""
        self.cluster.register(self.worker, utcnow(), self.lease_seconds)
        broker = self.executions.streams.broker
        broker.on_notice("work", lambda _message: self._wake.set())
        broker.on_notice("cancel", self._on_cancel)
        self._running = True
        self._warn_without_broker()
        recovered = self.sweep()
        self._greenlets.append(gevent.spawn(self._keep_lease))
        if self.worker.runs_executions:
            self._wake.set()  # executions may be waiting already
            self._greenlets.append(gevent.spawn(self._dispatch))
        return recovered

    def _warn_without_broker(self) -> None:
        """Several processes on one database need a shared broker: say so when there is none."""
        if getattr(self.executions.streams.broker, "shared", False):
            return
        others = [w for w in self.cluster.live_workers() if w["id"] != self.worker.id]
        if others:
            names = ", ".join(f"pid {w['pid']} on {w['host']}" for w in others)
            log.warning(
                "other Boltdeck processes use this database (%s) but BOLTDECK_BROKER_URL is empty: streams of "
                "executions another process runs advance only once per heartbeat; set it to a Redis URL",
                names,
            )

    def stop(self) -> None:
        """Stop the loops and end the lease, so that others recover what is left at once."""
        self._running = False
        self._wake.set()
        gevent.killall(self._greenlets, timeout=2)
        try:
            self.cluster.retire(self.worker.id)
        except StorageError as exc:
            log.warning("could not end this worker's lease (others recover its executions when it lapses): %s", exc)

    # loops ------------------------------------------------------------------------------
    def _keep_lease(self) -> None:
        interval = self.lease_seconds / 3
        beats = 0
        while self._running:
            gevent.sleep(interval)
            self._guarded(self._renew)
            self._guarded(self.sweep)
            beats += 1
            if beats % 720 == 0:  # now and then, forget workers dead for a day
                self._guarded(lambda: self.cluster.forget_dead_workers(FORGET_WORKERS_AFTER_SECONDS))

    def _renew(self) -> None:
        if not self.cluster.renew(self.worker.id, self.lease_seconds, self._stats()):
            log.error("this worker's record was removed as dead; registering again")
            self.cluster.register(self.worker, utcnow(), self.lease_seconds)
        self.executions.forget_held_elsewhere()
        owned = self.cluster.owned(self.worker.id)
        for execution_id in self.executions.owned_ids():
            if execution_id not in owned:  # taken over while our lease had lapsed, or already final
                if self.executions.store.get_execution(execution_id)["owner"] != self.worker.id:
                    self.executions.lose(execution_id)

    def _dispatch(self) -> None:
        while self._running:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if not self._running:
                return
            self._guarded(self._claim_all)
            self._guarded(self._apply_stop_requests)

    def _claim_all(self) -> None:
        limit = self.executions.settings.max_concurrent_executions
        while self._running and self.executions.accepting:
            execution_id = self.cluster.claim_next(self.worker.id, limit)
            if execution_id is None:
                return
            gevent.spawn(self.executions.run_claimed, execution_id)

    def _apply_stop_requests(self) -> None:
        for execution_id, reason in self.cluster.owned(self.worker.id).items():
            if reason:
                self.executions.stop_owned(execution_id, reason)

    def _on_cancel(self, message: dict[str, Any]) -> None:
        execution_id = message.get("executionId")
        if isinstance(execution_id, str):
            self.executions.stop_owned(execution_id, CANCELLED)

    # recovery ---------------------------------------------------------------------------
    def sweep(self) -> list[str]:
        """Record as interrupted every unfinished execution whose owner (or pinned worker) is dead."""
        recovered = []
        now = time.time()
        for item in self.cluster.unfinished():
            if item.owner == self.worker.id or not self._orphaned(item, now):
                continue
            try:
                same_host = item.host == self.worker.host
                if self.executions.recover(item.id, item.owner, same_host):
                    recovered.append(item.id)
            except StorageError as exc:  # one unwritable row must not stop the others
                log.error("execution %s stays unfinished until the next sweep: %s", item.id, exc)
        return recovered

    def _orphaned(self, item: Unfinished, now: float) -> bool:
        holder = item.owner if item.owner is not None else item.pinned_to
        if holder is None:
            return not item.queued  # waiting unpinned: any runner may claim it; else nobody has it
        if holder == self.worker.id:
            return False
        if item.lease_until is None:  # no record of its worker at all
            return True
        return item.lease_until < now or self.worker.outlived(item.host, item.boot_id, item.pid)

    def _guarded(self, step: Callable[[], Any]) -> None:
        try:
            step()
        except StorageError as exc:
            log.warning("cluster upkeep: %s", exc)
        except Exception:
            log.exception("cluster upkeep failed")
