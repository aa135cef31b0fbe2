"""ExecutionService: start, queue, run, cancel, time out, rerun and recover executions."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterator

import gevent
import gevent.event

from ..bolt import parser
from ..bolt.cli import BoltCli, bolt_environment
from ..bolt.lines import take_text
from ..bolt.reaper import GroupReaper
from ..bolt.runner import BoltProcess, kill_orphans
from ..config import Settings
from ..errors import ConflictError, NotFoundError, RateLimitedError, StorageError, ValidationError
from ..storage.store import ExecutionFilter, ExecutionStore
from ..streaming.manager import StreamingExecutionManager
from . import model
from .log import EventLog, OutputRecorder
from .plans import Plan, make_plan, params_handed_over

log = logging.getLogger(__name__)
EXECUTION_ENV_MARKER = "BOLTDECK_EXECUTION_ID"
# Storing the end of an execution: tries, and the first pause between them (doubling after
# each); every try also waits up to BOLTDECK_DATABASE_BUSY_SECONDS for a lock by itself.
FINISH_ATTEMPTS = 3
FINISH_PAUSE_SECONDS = 0.5


class SlotQueue:
    """At most `limit` executions run at once; the rest wait in FIFO order."""

    @dataclass
    class _Waiter:
        execution_id: str
        ready: gevent.event.Event = field(default_factory=gevent.event.Event)
        cancelled: bool = False

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self.running = 0
        self._waiting: deque[SlotQueue._Waiter] = deque()

    def acquire(self, execution_id: str) -> bool:
        """Block until a slot is free; False when the wait was cancelled."""
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return True
        waiter = self._Waiter(execution_id)
        self._waiting.append(waiter)
        waiter.ready.wait()
        return not waiter.cancelled

    def release(self) -> None:
        if self._waiting:
            self._waiting.popleft().ready.set()  # the slot passes straight to the next in line
        else:
            self.running -= 1

    def discard(self, execution_id: str) -> bool:
        for waiter in self._waiting:
            if waiter.execution_id == execution_id:
                self._waiting.remove(waiter)
                waiter.cancelled = True
                waiter.ready.set()
                return True
        return False

    def position(self, execution_id: str) -> int | None:
        for i, waiter in enumerate(self._waiting):
            if waiter.execution_id == execution_id:
                return i + 1
        return None


@dataclass
class _Runtime:
    """What exists only while an execution is queued or running in this process."""

    plan: Plan
    recorder: OutputRecorder
    deadline: float
    process: BoltProcess | None = None
    stop_reason: str | None = None  # cancelled | timed_out | interrupted
    done: gevent.event.Event = field(default_factory=gevent.event.Event)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    bolt_errors: int = 0
    created_by: str | None = None


class ExecutionService:
    def __init__(self, settings: Settings, store: ExecutionStore, bolt: BoltCli, streams: StreamingExecutionManager):
        self.settings = settings
        self.store = store
        self.bolt = bolt
        self.streams = streams
        self.slots = SlotQueue(settings.max_concurrent_executions)
        self._runtimes: dict[str, _Runtime] = {}
        self._starting: Counter[str] = Counter()  # per user: starts past the limit check, not yet in _runtimes
        self._accepting = True
        self._reaper = GroupReaper()  # starts its watchdog process on first use

    # starting ---------------------------------------------------------------------------
    def start(
        self,
        kind: str,
        request: dict[str, Any],
        parent: dict[str, Any] | None = None,
        *,
        authorize: Callable[[Plan], None] | None = None,
        created_by: str | None = None,
    ) -> dict[str, Any]:
        """Validate, authorize, record as queued, and schedule an execution; returns its record.

        `authorize` sees the checked plan (argv, shell command, task, expanded targets) and
        raises to refuse it; nothing is stored or started before it has passed.
        """
        if not self._accepting:
            raise ConflictError("the server is shutting down", code="shutting_down", status=503)
        with self._admitting(created_by):
            timeout = self._timeout_for(request)
            plan = make_plan(kind, request, self.bolt)
            if authorize is not None:
                authorize(plan)
            execution_id = uuid.uuid4().hex
            row = {
                "id": execution_id,
                "kind": kind,
                "status": model.QUEUED,
                "targets": plan.targets,
                "request": {**plan.stored_request, "hasSensitive": plan.has_sensitive},
                "expert_mode": bool(request.get("expertMode")),
                "command_line": plan.display,
                "parent_id": parent["id"] if parent else None,
                "rerun_scope": parent.get("scope") if parent else None,
                "timeout_seconds": timeout,
                "created_at": model.utcnow(),
                "created_by": created_by,
            }
            self.store.create_execution(row, [*plan.targets, *plan.expanded_targets])
            recorder = self._recorder(execution_id, next_seq=1)
            self._runtimes[execution_id] = _Runtime(plan, recorder, deadline=timeout, created_by=created_by)
        recorder.event(
            "start",
            {
                "kind": kind,
                "status": model.QUEUED,
                "targets": plan.targets,
                "expandedTargets": plan.expanded_targets,
                "expertMode": row["expert_mode"],
                "timeoutSeconds": timeout,
                "parentId": row["parent_id"],
            },
        )
        gevent.spawn(self._run, execution_id)
        return self.store.get_execution(execution_id)

    def _timeout_for(self, request: dict[str, Any]) -> float:
        """The request's timeout (default and most: BOLTDECK_EXECUTION_TIMEOUT_SECONDS)."""
        timeout = request.get("timeoutSeconds") or self.settings.execution_timeout_seconds
        if timeout > self.settings.execution_timeout_seconds:
            raise ValidationError(
                f"timeoutSeconds must be at most {self.settings.execution_timeout_seconds:g}",
                details={"timeoutSeconds": [f"at most {self.settings.execution_timeout_seconds:g}"]},
            )
        return float(timeout)

    @contextmanager
    def _admitting(self, user: str | None) -> Iterator[None]:
        """Hold a place among `user`'s active executions while one starts, or refuse it (429).

        Starting yields (planning, storing): the place is counted from the check on, so a burst
        of concurrent requests cannot all pass it; it becomes the runtime's when the body ends.
        """
        if user is None:  # started by Boltdeck itself, not on a user's request
            yield
            return
        limit = self.settings.max_active_executions_per_user
        active = self._starting[user] + sum(1 for r in self._runtimes.values() if r.created_by == user)
        if active >= limit:
            raise RateLimitedError(
                f"you have {active} executions queued or running, the most one user may have; "
                "wait for one to finish or cancel one",
                code="too_many_executions",
                details={"limit": limit, "active": active, "setting": "BOLTDECK_MAX_ACTIVE_EXECUTIONS_PER_USER"},
            )
        self._starting[user] += 1
        try:
            yield
        finally:
            self._starting[user] -= 1
            if not self._starting[user]:
                del self._starting[user]

    def rerun(
        self,
        execution_id: str,
        scope: str,
        *,
        authorize: Callable[[Plan], None] | None = None,
        created_by: str | None = None,
    ) -> dict[str, Any]:
        """Start a new execution with the same request, on all or only the failed targets.

        The request is checked and authorized again, against today's inventory and policy.
        """
        original = self.require(execution_id)
        if original["status"] not in model.FINAL:
            raise ConflictError("only a finished execution can be re-run", details={"status": original["status"]})
        request = dict(original["request"])
        if request.pop("hasSensitive", False):
            raise ConflictError(
                "this execution had Sensitive task parameters, which Boltdeck does not store; start a new run",
                code="sensitive_parameters",
            )
        if scope == "failed":
            summary = original.get("summary") or {}
            failed = [*summary.get("failed", []), *summary.get("noResult", [])]
            if not failed:
                raise ConflictError("the execution has no failed targets to re-run", code="nothing_to_rerun")
            request["targets"] = failed
        return self.start(
            original["kind"],
            request,
            parent={"id": execution_id, "scope": scope},
            authorize=authorize,
            created_by=created_by,
        )

    # running ----------------------------------------------------------------------------
    def _run(self, execution_id: str) -> None:
        runtime = self._runtimes[execution_id]
        exit_code: int | None = None
        try:
            if not self.slots.acquire(execution_id):
                self._finish(execution_id, runtime, None)
                return
            try:
                if runtime.stop_reason is None:
                    with params_handed_over(runtime.plan) as runtime.plan:  # the file goes however bolt ends
                        exit_code = self._run_bolt(execution_id, runtime)
            finally:
                self.slots.release()
            self._finish(execution_id, runtime, exit_code)
        except Exception:  # the execution must still reach a final status
            log.exception("execution %s crashed", execution_id)
            runtime.bolt_errors += 1
            self._finish(execution_id, runtime, exit_code, crashed=True)

    def _run_bolt(self, execution_id: str, runtime: _Runtime) -> int | None:
        self._set_status(execution_id, runtime.recorder, model.RUNNING, started_at=model.utcnow())
        runtime.recorder.event("command", {"argv": runtime.plan.display})
        started = time.monotonic()
        process = BoltProcess(
            runtime.plan.argv,
            on_stdout=lambda raw, cut: self._on_stdout(runtime, raw, cut),
            on_stderr=lambda raw, cut: self._on_stderr(runtime, raw),  # a cut log line still exceeds the cap
            env=bolt_environment({EXECUTION_ENV_MARKER: execution_id}, self.bolt.env_passthrough),
            cwd=self.bolt.project,
            reaper=self._reaper,
            on_error=lambda stream, exc: self._on_reader_error(runtime, stream, exc),
            line_limit=self.settings.max_output_bytes,
            marker=f"{EXECUTION_ENV_MARKER}={execution_id}",
        )
        try:
            process.start()
        except OSError as exc:
            runtime.bolt_errors += 1
            runtime.recorder.event("error", {"kind": "boltdeck/spawn-error", "message": f"cannot start bolt: {exc}"})
            return None
        runtime.process = process
        if runtime.stop_reason is not None:  # cancelled while bolt was being spawned
            process.terminate(self.settings.kill_grace_seconds)
        code = process.wait(timeout=max(0.0, runtime.deadline - (time.monotonic() - started)))
        if code is None:
            runtime.stop_reason = runtime.stop_reason or model.TIMED_OUT
            code = process.terminate(self.settings.kill_grace_seconds)
        if process.leftovers_killed:  # a notice of Boltdeck's own: recorded even past the output cap
            text = f"Boltdeck killed {process.leftovers_killed} process(es) left running after bolt ended.\n"
            runtime.recorder.event("log", {"text": text})
        return code

    def _on_stdout(self, runtime: _Runtime, raw: bytes | bytearray, cut: bool) -> None:
        line = parser.classify_stdout(take_text(raw))  # a long result line is not held twice
        if line.kind == "stream":
            runtime.recorder.output(line.stream, line.target, line.text)
        elif line.kind == "item":
            result = parser.result_of(line.payload)
            self._record_result(runtime, {**result, "truncated": True} if cut else result)
        elif line.kind == "error":
            runtime.bolt_errors += 1
            runtime.recorder.event("error", parser.error_of(line.payload))
        elif line.kind == "log":
            runtime.recorder.output("log", None, line.text + "\n")

    def _on_stderr(self, runtime: _Runtime, raw: bytes | bytearray) -> None:
        text = parser.clean_stderr(take_text(raw))
        if text is not None:
            runtime.recorder.output("log", None, text + "\n")

    def _on_reader_error(self, runtime: _Runtime, stream: str, exc: Exception) -> None:
        """A failure while reading or recording bolt's output: the run must not pass for a clean one."""
        runtime.bolt_errors += 1
        runtime.recorder.event(
            "error",
            {
                "kind": "boltdeck/output-error",
                "issueCode": None,
                "message": f"Boltdeck failed to record bolt's {stream}: {type(exc).__name__}: {exc}",
                "details": {"stream": stream, "exception": type(exc).__name__},
            },
        )

    def _record_result(self, runtime: _Runtime, result: dict[str, Any]) -> None:
        if runtime.plan.kind == "puppet":
            result = model.settle_puppet_result(result)
        result = _cap_result(result, self.settings.max_output_bytes)
        self.store.save_result(runtime.recorder.log.execution_id, result)
        # Only what the final status needs stays in memory: the texts are in the store, and
        # holding every target's output until the end grew memory with targets x output cap.
        runtime.results[result["target"]] = {"target": result["target"], "status": result["status"]}
        runtime.recorder.event("result", result, target=result["target"])
        done, total = len(runtime.results), max(len(runtime.plan.expanded_targets), len(runtime.results))
        runtime.recorder.event(
            "progress",
            {"percent": round(100 * done / total), "phase": "targets", "completed": done, "total": total},
        )

    def _finish(self, execution_id: str, runtime: _Runtime, exit_code: int | None, crashed: bool = False) -> None:
        """Record the end (final status and `complete`), with retries; followers get `complete` whatever happens."""
        complete: dict[str, Any] = {"status": runtime.stop_reason or model.FAILED, "exitCode": exit_code}
        recorded = False
        try:
            complete = self._ending(runtime, exit_code, crashed)
            recorded = self._record_end(execution_id, runtime, complete)
        except Exception:  # the run greenlet must neither die silently nor leave followers waiting
            log.exception("execution %s: recording its end crashed", execution_id)
        finally:
            if not recorded:  # every stream still ends; the row stays queued/running for recover()
                runtime.recorder.log.announce("complete", {**complete, "recorded": False})
            runtime.done.set()
            self._runtimes.pop(execution_id, None)

    def _ending(self, runtime: _Runtime, exit_code: int | None, crashed: bool) -> dict[str, Any]:
        """The data of the `complete` event, without its duration."""
        results = list(runtime.results.values())
        expected = runtime.plan.expanded_targets
        status = runtime.stop_reason or model.final_status(results, expected, runtime.bolt_errors > 0 or crashed)
        if runtime.plan.kind == "puppet":  # Bolt's 1 also counts agent exit 2, a success here
            exit_code = model.settle_puppet_exit_code(exit_code, status)
        summary = model.summarize(results, expected)
        return {"status": status, "exitCode": exit_code, "durationMs": None, "summary": summary}

    def _record_end(self, execution_id: str, runtime: _Runtime, complete: dict[str, Any]) -> bool:
        """Store the final status with `complete`, retrying after growing pauses; False if the store kept refusing."""
        for attempt in range(1, FINISH_ATTEMPTS + 1):
            try:
                record = self.require(execution_id)
                finished = model.utcnow()
                complete["durationMs"] = model.ms_between(record.get("started_at") or record["created_at"], finished)
                self._set_status(
                    execution_id,
                    runtime.recorder,
                    complete["status"],
                    complete=complete,
                    finished_at=finished,
                    exit_code=complete["exitCode"],
                    duration_ms=complete["durationMs"],
                    summary=complete["summary"],
                )
                return True
            except StorageError as exc:
                log.warning("execution %s: storing its end failed (try %d): %s", execution_id, attempt, exc)
                if attempt < FINISH_ATTEMPTS:
                    gevent.sleep(FINISH_PAUSE_SECONDS * 2 ** (attempt - 1))
        log.error("execution %s: its end is not stored; the next start recovers it as interrupted", execution_id)
        return False

    def _set_status(
        self, execution_id: str, recorder: OutputRecorder, status: str, complete: dict | None = None, **fields: Any
    ) -> None:
        """The one place a status changes: check the move, store the row and its events together, publish."""
        record = self.require(execution_id)
        if not model.can_move(record["status"], status):
            raise ConflictError(f"execution {execution_id} cannot go from {record['status']} to {status}")
        events = [("status", {"status": status, "previous": record["status"]})]
        if complete is not None:
            events.append(("complete", complete))
        recorder.flush()  # output that came before the change stays before it in the log
        store_row = partial(self.store.update_execution, execution_id, status=status, **fields)
        recorder.log.append_all(events, alongside=store_row)

    # control ----------------------------------------------------------------------------
    def cancel(self, execution_id: str) -> dict[str, Any]:
        """Cancel a queued or running execution; a finished one is a 409."""
        record = self.require(execution_id)
        runtime = self._runtimes.get(execution_id)
        if record["status"] in model.FINAL or runtime is None:
            raise ConflictError(
                f"execution is already {record['status']}", code="not_cancellable", details={"status": record["status"]}
            )
        self._stop(execution_id, runtime, model.CANCELLED)
        runtime.done.wait(self.settings.kill_grace_seconds + 1)  # answer with the final state
        return self.store.get_execution(execution_id)

    def _stop(self, execution_id: str, runtime: _Runtime, reason: str) -> None:
        if runtime.stop_reason is None:
            runtime.stop_reason = reason
        if self.slots.discard(execution_id):
            return
        if runtime.process is not None:
            gevent.spawn(runtime.process.terminate, self.settings.kill_grace_seconds)

    def wait(self, execution_id: str, timeout: float | None = None) -> dict[str, Any]:
        runtime = self._runtimes.get(execution_id)
        if runtime is not None:
            runtime.done.wait(timeout)
        return self.require(execution_id)

    def shutdown(self, timeout: float) -> None:
        """Stop accepting runs; stop running ones and record them as interrupted."""
        self._accepting = False
        runtimes = list(self._runtimes.items())
        for execution_id, runtime in runtimes:
            self._stop(execution_id, runtime, model.INTERRUPTED)
        deadline = time.monotonic() + timeout
        for _, runtime in runtimes:
            runtime.done.wait(max(0.0, deadline - time.monotonic()))
        self._reaper.close()

    def recover(self) -> list[str]:
        """Mark executions left queued/running by a dead server as interrupted; kill their orphans."""
        ids = self.store.unfinished_execution_ids()
        if ids:
            killed = kill_orphans(EXECUTION_ENV_MARKER, set(ids))
            log.warning("recovering %d interrupted executions (killed %d orphaned processes)", len(ids), killed)
        for execution_id in ids:
            try:
                self._recover_one(execution_id)
            except StorageError as exc:  # one unwritable row must not stop the server from starting
                log.error("execution %s stays unfinished until the next start: %s", execution_id, exc)
        return ids

    def _recover_one(self, execution_id: str) -> None:
        """Record one execution a dead server left as interrupted, with its `complete` event."""
        record = self.require(execution_id)
        recorder = self._recorder(execution_id, self.store.last_seq(execution_id) + 1)
        finished = model.utcnow()
        duration_ms = model.ms_between(record.get("started_at") or record["created_at"], finished)
        summary = model.summarize(self.store.get_results(execution_id), record["targets"])
        complete = {"status": model.INTERRUPTED, "exitCode": None, "durationMs": duration_ms, "summary": summary}
        self._set_status(
            execution_id,
            recorder,
            model.INTERRUPTED,
            complete=complete,
            finished_at=finished,
            duration_ms=duration_ms,
            summary=summary,
        )

    # reading ----------------------------------------------------------------------------
    def require(self, execution_id: str) -> dict[str, Any]:
        record = self.store.get_execution(execution_id)
        if record is None:
            raise NotFoundError(f"execution {execution_id} does not exist", details={"executionId": execution_id})
        return record

    def list(self, query: ExecutionFilter) -> tuple[list[dict[str, Any]], int]:
        return self.store.list_executions(query)

    def active_count(self) -> int:
        return len(self._runtimes)

    def queue_position(self, execution_id: str) -> int | None:
        return self.slots.position(execution_id)

    def _recorder(self, execution_id: str, next_seq: int) -> OutputRecorder:
        event_log = EventLog(self.store, self.streams.publish, execution_id, next_seq)
        return OutputRecorder(
            event_log, self.settings.stream_coalesce_ms / 1000.0, self.settings.max_output_bytes
        )


def _cap_result(result: dict[str, Any], cap: int) -> dict[str, Any]:
    """Keep stored results within the output cap (the line reader already cut longer strings in bytes)."""
    for key in ("stdout", "stderr"):
        text = result.get(key)
        if isinstance(text, str) and len(text) > cap:
            result = {**result, key: text[:cap], "truncated": True}
    return result
