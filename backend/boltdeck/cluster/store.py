"""The tables that let processes share executions: workers and leases, the queue, claims, stop requests.

Every claim runs in one write transaction that is serialized across processes (SQLite's
BEGIN IMMEDIATE; on PostgreSQL a transaction-level advisory lock), so the limit of running
executions and the submission order hold across all processes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from ..executions.model import QUEUED, RUNNING
from ..storage.schema import execution_queue, executions, workers
from ..storage.store import ExecutionStore
from .worker import Worker

CLAIM_LOCK_KEY = 0x626F6C74  # "bolt": the advisory lock of the queue on PostgreSQL
_UNFINISHED = (QUEUED, RUNNING)


@dataclass(frozen=True)
class Unfinished:
    """An execution not yet final, with what is known of its owner (None: none, or no record of it)."""

    id: str
    owner: str | None
    queued: bool  # waiting in the queue, unclaimed
    pinned_to: str | None
    host: str | None
    boot_id: str | None
    pid: int | None
    lease_until: float | None


class ClusterStore:
    def __init__(self, store: ExecutionStore):
        self._store = store

    # workers ----------------------------------------------------------------------------
    def register(self, worker: Worker, started_at: str, lease_seconds: float) -> None:
        with self._store.write() as conn:
            conn.execute(delete(workers).where(workers.c.id == worker.id))
            conn.execute(
                insert(workers).values(
                    id=worker.id,
                    host=worker.host,
                    pid=worker.pid,
                    boot_id=worker.boot_id,
                    role=worker.role,
                    started_at=started_at,
                    lease_until=time.time() + lease_seconds,
                )
            )

    def renew(self, worker_id: str, lease_seconds: float, stats: dict[str, Any] | None = None) -> bool:
        """Extend the lease; False when the worker's row is gone (someone deemed it dead)."""
        with self._store.write() as conn:
            done = conn.execute(
                update(workers)
                .where(workers.c.id == worker_id)
                .values(lease_until=time.time() + lease_seconds, stats=json.dumps(stats) if stats else None)
            )
        return done.rowcount == 1

    def retire(self, worker_id: str) -> None:
        """An orderly exit: the lease ends now, so what the worker left is recovered at once."""
        with self._store.write() as conn:
            conn.execute(update(workers).where(workers.c.id == worker_id).values(lease_until=0.0))

    def live_workers(self) -> list[dict[str, Any]]:
        with self._store.engine.connect() as conn:
            rows = conn.execute(
                select(workers).where(workers.c.lease_until >= time.time()).order_by(workers.c.started_at)
            ).mappings()
            return [{**row, "stats": json.loads(row["stats"]) if row["stats"] else None} for row in rows]

    def forget_dead_workers(self, older_than_seconds: float) -> None:
        """Drop workers whose lease ended long ago and who own nothing unfinished."""
        owning = select(executions.c.owner).where(executions.c.status.in_(_UNFINISHED), executions.c.owner.isnot(None))
        with self._store.write() as conn:
            conn.execute(
                delete(workers).where(
                    workers.c.lease_until < time.time() - older_than_seconds, workers.c.id.not_in(owning)
                )
            )

    # the queue --------------------------------------------------------------------------
    def enqueue(self, execution_id: str, pinned_to: str | None = None) -> None:
        """Put a stored execution in the queue (call inside the transaction that stores it)."""
        with self._store.write() as conn:
            conn.execute(insert(execution_queue).values(execution_id=execution_id, pinned_to=pinned_to))

    def claim_next(self, worker_id: str, limit: int) -> str | None:
        """Take the oldest queued execution for `worker_id` if fewer than `limit` run cluster-wide.

        Strict FIFO: when the head is pinned to another worker, nobody else overtakes it.
        """
        with self._store.write() as conn:
            _lock_queue(conn)
            busy = conn.execute(
                select(func.count())
                .select_from(executions)
                .where(executions.c.status.in_(_UNFINISHED), executions.c.owner.isnot(None))
            ).scalar_one()
            if busy >= limit:
                return None
            head = conn.execute(
                select(execution_queue.c.execution_id, execution_queue.c.pinned_to)
                .order_by(execution_queue.c.position)
                .limit(1)
            ).first()
            if head is None or head.pinned_to not in (None, worker_id):
                return None
            self._take(conn, head.execution_id, worker_id)
            return head.execution_id

    def claim(self, execution_id: str, worker_id: str) -> bool:
        """Take one queued, unclaimed execution (to cancel it); False when a runner has it already."""
        with self._store.write() as conn:
            _lock_queue(conn)
            found = conn.execute(
                select(execution_queue.c.execution_id).where(execution_queue.c.execution_id == execution_id)
            ).first()
            if found is None:
                return False
            self._take(conn, execution_id, worker_id)
            return True

    @staticmethod
    def _take(conn: Connection, execution_id: str, worker_id: str) -> None:
        conn.execute(delete(execution_queue).where(execution_queue.c.execution_id == execution_id))
        conn.execute(update(executions).where(executions.c.id == execution_id).values(owner=worker_id))

    def queue_position(self, execution_id: str) -> int | None:
        """1 for the next to start; None when the execution is not waiting in the queue."""
        with self._store.engine.connect() as conn:
            mine = conn.execute(
                select(execution_queue.c.position).where(execution_queue.c.execution_id == execution_id)
            ).scalar()
            if mine is None:
                return None
            return conn.execute(
                select(func.count()).select_from(execution_queue).where(execution_queue.c.position <= mine)
            ).scalar_one()

    # ownership --------------------------------------------------------------------------
    def unfinished(self) -> list[Unfinished]:
        """Every queued or running execution with its owner's record (or the worker it is pinned to)."""
        queue = execution_queue.alias("q")
        holder = func.coalesce(executions.c.owner, queue.c.pinned_to)
        stmt = (
            select(
                executions.c.id,
                executions.c.owner,
                queue.c.execution_id.isnot(None).label("queued"),
                queue.c.pinned_to,
                workers.c.host,
                workers.c.boot_id,
                workers.c.pid,
                workers.c.lease_until,
            )
            .select_from(
                executions.outerjoin(queue, queue.c.execution_id == executions.c.id).outerjoin(
                    workers, workers.c.id == holder
                )
            )
            .where(executions.c.status.in_(_UNFINISHED))
            .order_by(executions.c.created_at)
        )
        with self._store.engine.connect() as conn:
            return [Unfinished(*row) for row in conn.execute(stmt)]

    def take_over(self, execution_id: str, previous: str | None, worker_id: str) -> bool:
        """Become the owner of an execution whose owner is dead; False when another process did first."""
        same_owner = executions.c.owner.is_(None) if previous is None else executions.c.owner == previous
        with self._store.write() as conn:
            _lock_queue(conn)
            conn.execute(delete(execution_queue).where(execution_queue.c.execution_id == execution_id))
            done = conn.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.status.in_(_UNFINISHED), same_owner)
                .values(owner=worker_id)
            )
        return done.rowcount == 1

    def owned(self, worker_id: str) -> dict[str, str | None]:
        """This worker's unfinished executions and any stop asked for each."""
        stmt = select(executions.c.id, executions.c.stop_requested).where(
            executions.c.owner == worker_id, executions.c.status.in_(_UNFINISHED)
        )
        with self._store.engine.connect() as conn:
            return {row.id: row.stop_requested for row in conn.execute(stmt)}

    def taken_by_others(self, execution_ids: list[str], worker_id: str) -> list[str]:
        """Those of these executions that another worker owns, or that are over."""
        stmt = select(executions.c.id).where(
            executions.c.id.in_(execution_ids),
            (executions.c.owner != worker_id) | executions.c.status.not_in(_UNFINISHED),
        )
        with self._store.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def request_stop(self, execution_id: str, reason: str) -> None:
        with self._store.write() as conn:
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.stop_requested.is_(None))
                .values(stop_requested=reason)
            )

    def active_for_user(self, user: str) -> int:
        stmt = (
            select(func.count())
            .select_from(executions)
            .where(executions.c.created_by == user, executions.c.status.in_(_UNFINISHED))
        )
        with self._store.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()


def _lock_queue(conn: Connection) -> None:
    """Serialize claims across processes (SQLite's write transactions are serialized already)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK_KEY})")
