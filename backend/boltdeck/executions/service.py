"""ExecutionService: start, queue, run, cancel, time out, rerun and recover executions.

Several processes may share one store (docs/deployment.md). Starting stores the execution
as `queued` in the shared queue and tells the runners; a runner claims it (cluster.store)
and becomes its owner, the only process that runs it and writes its log. Cancel, sent to
any process, reaches the owner through a stop request in the store and a notice. An owner
whose lease expired is dead: any process records its executions as interrupted.
"""

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
import gevent.lock

from ..bolt import apply_output, parser
from ..bolt.cli import BoltCli, bolt_environment
from ..bolt.lines import take_text
from ..bolt.reaper import GroupReaper
from ..bolt.runner import BoltProcess, kill_orphans
from ..cluster import ClusterStore, Worker
from ..config import Settings
from ..errors import BoltdeckError, ConflictError, NotFoundError, RateLimitedError, StorageError, ValidationError
from ..progress import ExecutionProgress
from ..storage.store import ExecutionFilter, ExecutionStore
from ..streaming.manager import StreamingExecutionManager
from . import model
from .log import EventLog, OutputRecorder
from .plan_run import PlanRun
from .runspec import RunSpec, make_run_spec, narrowed_plan_request, params_handed_over

log = logging.getLogger(__name__)
EXECUTION_ENV_MARKER = "BOLTDECK_EXECUTION_ID"
# Storing the end of an execution: tries, and the first pause between them (doubling after
# each); every try also waits up to BOLTDECK_DATABASE_BUSY_SECONDS for a lock by itself.
FINISH_ATTEMPTS = 3
FINISH_PAUSE_SECONDS = 0.5


@dataclass
class _Runtime:
    """What exists only while an execution is queued or running in this process."""

    spec: RunSpec
    recorder: OutputRecorder
    progress: ExecutionProgress
    deadline: float
    process: BoltProcess | None = None
    stop_reason: str | None = None  # cancelled | timed_out | interrupted
    done: gevent.event.Event = field(default_factory=gevent.event.Event)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    bolt_errors: int = 0
    created_by: str | None = None
    lost: bool = False  # another process took the execution over (this one's lease had expired)
    plan_run: PlanRun | None = None  # a Bolt plan's steps and outcome (kind plan)


class ExecutionService:
    def __init__(
        self,
        settings: Settings,
        store: ExecutionStore,
        bolt: BoltCli,
        streams: StreamingExecutionManager,
        worker: Worker,
    ):
        self.settings = settings
        self.store = store
        self.cluster = ClusterStore(store)
        self.worker = worker
        self.bolt = bolt
        self.streams = streams
        self._runtimes: dict[str, _Runtime] = {}  # the executions this process owns
        self._held: dict[str, RunSpec] = {}  # run specs started here and not claimed yet (Sensitive values live only here)
        self._starting: Counter[str] = Counter()  # per user: starts past the limit check, not yet stored
        self._admission = gevent.lock.Semaphore()  # the limit check and the place it takes, as one step
        self._accepting = True
        self._reaper = GroupReaper()  # starts its watchdog process on first use

    # starting ---------------------------------------------------------------------------
    def start(
        self,
        kind: str,
        request: dict[str, Any],
        parent: dict[str, Any] | None = None,
        *,
        authorize: Callable[[RunSpec], None] | None = None,
        created_by: str | None = None,
    ) -> dict[str, Any]:
        """Validate, authorize, record as queued, and schedule an execution; returns its record.

        `authorize` sees the checked spec (argv, shell command, task, expanded targets) and
        raises to refuse it; nothing is stored or started before it has passed.
        """
        if not self._accepting:
            raise ConflictError("the server is shutting down", code="shutting_down", status=503)
        with self._admitting(created_by):
            timeout = self._timeout_for(request)
            spec = make_run_spec(kind, request, self.bolt)
            if authorize is not None:
                authorize(spec)
            if spec.has_sensitive and not self.worker.runs_executions:
                raise ConflictError(
                    "this Boltdeck process only serves the web (role web) and cannot hold Sensitive task "
                    "parameters for a runner, since they are never stored: send the request to a process "
                    "started with `boltdeck serve`",
                    code="sensitive_parameters_need_runner",
                    status=503,
                )
            execution_id = uuid.uuid4().hex
            row = {
                "id": execution_id,
                "kind": kind,
                "status": model.QUEUED,
                "targets": spec.targets,
                "request": {**spec.stored_request, "hasSensitive": spec.has_sensitive},
                "expert_mode": bool(request.get("expertMode")),
                "command_line": spec.display,
                "parent_id": parent["id"] if parent else None,
                "rerun_scope": parent.get("scope") if parent else None,
                "timeout_seconds": timeout,
                "created_at": model.utcnow(),
                "created_by": created_by,
            }
            start = {
                "kind": kind,
                "status": model.QUEUED,
                "targets": spec.targets,
                "expandedTargets": spec.expanded_targets,
                "expertMode": row["expert_mode"],
                "timeoutSeconds": timeout,
                "parentId": row["parent_id"],
            }
            pinned = self.worker.id if spec.has_sensitive else None
            if self.worker.runs_executions:  # before it is claimable: this process's runner takes it from here
                self._held[execution_id] = spec

            def store_and_enqueue() -> None:
                self.store.create_execution(row, [*spec.targets, *spec.expanded_targets])
                self.cluster.enqueue(execution_id, pinned_to=pinned)

            try:
                EventLog(self.store, self.streams.publish, execution_id).append_all(
                    [("start", start)], alongside=store_and_enqueue
                )
            except BaseException:
                self._held.pop(execution_id, None)
                raise
        self.streams.broker.notify("work", {})
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
        # One check at a time: on PostgreSQL the count's query yields to other greenlets, and a
        # burst of requests would all read the same count before any of them took its place.
        with self._admission:
            starting = self._starting[user]  # read first: a start stored meanwhile counts twice, never not at all
            active = starting + self.cluster.active_for_user(user)  # across every process
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
        authorize: Callable[[RunSpec], None] | None = None,
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
            if original["kind"] == "plan":
                request = narrowed_plan_request(request, failed, self.bolt)
            else:
                request["targets"] = failed
        return self.start(
            original["kind"],
            request,
            parent={"id": execution_id, "scope": scope},
            authorize=authorize,
            created_by=created_by,
        )

    # running ----------------------------------------------------------------------------
    def run_claimed(self, execution_id: str) -> None:
        """Run an execution this process has just claimed from the queue, to its final status."""
        try:
            runtime = self._runtime_for(execution_id)
        except Exception as exc:  # its record or spec cannot be had: it ends failed, with the reason
            self._fail_unplannable(execution_id, exc)
            return
        self._run(execution_id, runtime)

    def _runtime_for(self, execution_id: str) -> _Runtime:
        """The claimed execution's runtime: the spec held since it started here, or planned again from the store."""
        record = self.require(execution_id)
        spec = self._held.pop(execution_id, None)
        if spec is None:
            request = dict(record["request"])
            if request.pop("hasSensitive", False):
                raise ConflictError(
                    "its Sensitive task parameters were held in memory by the process it was started on, "
                    "which is gone (they are never stored)",
                    code="sensitive_parameters",
                )
            spec = make_run_spec(record["kind"], request, self.bolt)
        recorder = self._recorder(execution_id, self.store.last_seq(execution_id) + 1)
        runtime = _Runtime(
            spec,
            recorder,
            self._progress(recorder),
            deadline=record["timeout_seconds"],
            created_by=record["created_by"],
            plan_run=self._plan_run(spec, recorder) if spec.kind == "plan" else None,
        )
        self._runtimes[execution_id] = runtime  # from here on a cancel notice finds it
        runtime.stop_reason = self.cluster.owned(self.worker.id).get(execution_id)  # cancelled while claimed
        return runtime

    def _fail_unplannable(self, execution_id: str, exc: Exception) -> None:
        log.warning("execution %s cannot run: %s", execution_id, exc)
        message = exc.message if isinstance(exc, BoltdeckError) else f"{type(exc).__name__}: {exc}"
        error = {"kind": "boltdeck/plan-error", "issueCode": None, "message": f"cannot run: {message}"}
        try:
            self._record_without_run(execution_id, model.FAILED, error)
        except Exception:
            log.exception("execution %s: recording that it cannot run failed", execution_id)

    def _run(self, execution_id: str, runtime: _Runtime) -> None:
        exit_code: int | None = None
        try:
            if runtime.stop_reason is None:
                with params_handed_over(runtime.spec) as runtime.spec:  # the file goes however bolt ends
                    exit_code = self._run_bolt(execution_id, runtime)
            self._finish(execution_id, runtime, exit_code)
        except Exception:  # the execution must still reach a final status
            log.exception("execution %s crashed", execution_id)
            runtime.bolt_errors += 1
            self._finish(execution_id, runtime, exit_code, crashed=True)

    def _run_bolt(self, execution_id: str, runtime: _Runtime) -> int | None:
        self._set_status(execution_id, runtime.recorder, model.RUNNING, started_at=model.utcnow())
        runtime.recorder.event("command", {"argv": runtime.spec.display})
        started = time.monotonic()
        process = BoltProcess(
            runtime.spec.argv,
            on_stdout=lambda raw, cut: self._on_stdout(runtime, raw, cut),
            on_stdout_lines=lambda lines: self._on_stdout_lines(runtime, lines),
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

    def _progress(self, recorder: OutputRecorder) -> ExecutionProgress:
        """The execution's progress tracker, sending its events through the recorder (after pending output)."""
        rate = self.settings.progress_events_per_second  # BOLTDECK_PROGRESS_EVENTS_PER_SECOND
        return ExecutionProgress(lambda type_, data, target: recorder.event(type_, data, target=target), rate)

    @staticmethod
    def _plan_run(spec: RunSpec, recorder: OutputRecorder) -> PlanRun:
        secrets = [value for name, value in (spec.params or {}).items() if name in spec.sensitive]
        return PlanRun(lambda type_, data, target: recorder.event(type_, data, target=target), secrets)

    def _on_stdout(self, runtime: _Runtime, raw: bytes | bytearray, cut: bool) -> None:
        text = take_text(raw)
        if runtime.spec.kind == "apply" and apply_output.is_result_line(text):
            self._record_apply_results(runtime, text, cut)
            return
        if runtime.plan_run is not None:
            text = runtime.plan_run.mask(text)
        line = parser.classify_stdout(text)
        if runtime.plan_run is not None and line.kind != "stream":
            earlier = runtime.plan_run.on_outcome_line(text, cut)  # the last such line is the plan's outcome
            if earlier is not None:
                runtime.recorder.output("log", None, earlier + "\n")
            return
        del text  # a long result line is not held twice: its parsed payload is enough
        if line.kind == "stream":
            runtime.recorder.output(line.stream, line.target, line.text)
            runtime.progress.observe(line.target, line.text)
        elif line.kind == "item":
            result = parser.result_of(line.payload)
            self._record_result(runtime, {**result, "truncated": True} if cut else result)
        elif line.kind == "error":
            runtime.bolt_errors += 1
            runtime.recorder.event("error", parser.error_of(line.payload))
        elif line.kind == "log":
            runtime.recorder.output("log", None, line.text + "\n")

    def _on_stdout_lines(self, runtime: _Runtime, lines: list[bytes]) -> None:
        """A run of whole plain stdout lines from one pipe read, as `_on_stdout` would take them one by one.

        The stream lines in a row of one target and stream are recorded as one text: a line
        of a flood then costs a share of a few C-speed passes over the run and a progress
        check, not a classification and a recorder call of its own (~6.5 µs a line before).
        Any other line, and every line of a plan run or an apply, goes through `_on_stdout`
        in its place. A failure of the recorder does not lose the rest of the run: it is
        raised once the run is recorded.
        """
        if runtime.plan_run is not None or runtime.spec.kind == "apply":
            for raw in lines:
                self._on_stdout(runtime, raw, False)
            return
        failures: list[Exception] = []
        block = parser.decode(b"\n".join(lines))  # a line holds no newline, an invalid byte never spans one
        whole = parser.one_stream_run(block, len(lines))
        if whole is not None:  # the common case: one target's output, nothing else
            self._record_stream_run(runtime, *whole, failures)
        else:
            key: tuple[str, str] | None = None
            texts: list[str] = []
            for raw, text in zip(lines, block.split("\n")):
                line = parser.classify_stdout(text)
                if line.kind == "stream" and (line.stream, line.target) == key:
                    texts.append(line.text)
                    continue
                if texts:
                    self._record_stream_run(runtime, key, "".join(texts), failures)
                key, texts = ((line.stream, line.target), [line.text]) if line.kind == "stream" else (None, [])
                if key is None:
                    try:
                        self._on_stdout(runtime, raw, False)
                    except Exception as exc:
                        failures.append(exc)
            if texts:
                self._record_stream_run(runtime, key, "".join(texts), failures)
        if failures:
            raise failures[0]

    @staticmethod
    def _record_stream_run(runtime: _Runtime, key: tuple[str, str], text: str, failures: list[Exception]) -> None:
        """Record one target's stream lines in a row (`text`, each line ending in a newline); show them to progress."""
        stream, target = key
        try:
            runtime.recorder.output(stream, target, text)
        except Exception as exc:  # an earlier, deferred write failed: kept to report; this text still goes
            failures.append(exc)
            runtime.recorder.output(stream, target, text)
        for line in text.split("\n")[:-1]:
            runtime.progress.observe(target, line)

    def _on_stderr(self, runtime: _Runtime, raw: bytes | bytearray) -> None:
        text = take_text(raw)
        if runtime.plan_run is not None:
            runtime.plan_run.on_stderr(text)
            text = runtime.plan_run.mask(text)
        text = parser.clean_stderr(text)
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

    def _record_apply_results(self, runtime: _Runtime, text: str, cut: bool) -> None:
        """`bolt apply`'s one result line: each target's report feeds its resource view, then its result."""
        items = apply_output.items_of(text)
        if items is None:
            runtime.bolt_errors += 1
            why = " (it was longer than BOLTDECK_MAX_OUTPUT_BYTES)" if cut else ""
            message = f"Boltdeck could not read bolt apply's results{why}"
            runtime.recorder.event("error", {"kind": "boltdeck/apply-output", "issueCode": None, "message": message})
            return
        for item in items:
            report = apply_output.report_of(item)
            if report is not None:
                runtime.progress.report(str(item["target"]), report)
            self._record_result(runtime, parser.result_of(item))

    def _record_result(self, runtime: _Runtime, result: dict[str, Any]) -> None:
        if runtime.spec.kind == "puppet":
            result = model.settle_puppet_result(result)
        puppet = runtime.progress.finish(result["target"])  # its last progress goes out before its result
        if puppet is not None:
            result = {**result, "puppet": puppet}
        result = _cap_result(result, self.settings.max_output_bytes)
        self.store.save_result(runtime.recorder.log.execution_id, result)
        # Only what the final status needs stays in memory: the texts are in the store, and
        # holding every target's output until the end grew memory with targets x output cap.
        runtime.results[result["target"]] = {"target": result["target"], "status": result["status"]}
        runtime.recorder.event("result", result, target=result["target"])
        done, total = len(runtime.results), max(len(runtime.spec.expanded_targets), len(runtime.results))
        runtime.recorder.event(
            "progress",
            {"percent": round(100 * done / total), "phase": "targets", "completed": done, "total": total},
        )

    def _finish(self, execution_id: str, runtime: _Runtime, exit_code: int | None, crashed: bool = False) -> None:
        """Record the end (final status and `complete`), with retries; followers get `complete` whatever happens."""
        complete: dict[str, Any] = {"status": runtime.stop_reason or model.FAILED, "exitCode": exit_code}
        recorded = False
        try:
            if runtime.lost:  # its new owner records the end; nothing here may write to its log
                return
            runtime.progress.close()
            if runtime.plan_run is not None:
                failed = crashed or runtime.stop_reason is not None or runtime.bolt_errors > 0
                for result in runtime.plan_run.finish(exit_code, failed):
                    self._record_result(runtime, result)
            complete = self._ending(runtime, exit_code, crashed)
            recorded = self._record_end(execution_id, runtime, complete)
        except Exception:  # the run greenlet must neither die silently nor leave followers waiting
            log.exception("execution %s: recording its end crashed", execution_id)
        finally:
            if not recorded and not runtime.lost:  # every stream still ends; the row stays for recovery
                runtime.recorder.log.announce("complete", {**complete, "recorded": False})
            runtime.done.set()
            self._runtimes.pop(execution_id, None)
            self.streams.broker.notify("work", {})  # a slot is free: the next queued execution may start

    def _ending(self, runtime: _Runtime, exit_code: int | None, crashed: bool) -> dict[str, Any]:
        """The data of the `complete` event, without its duration."""
        results = list(runtime.results.values())
        expected = runtime.spec.expanded_targets
        if runtime.plan_run is not None:  # a plan's targets are its steps': it reports on those it returns
            expected = []
            status = runtime.stop_reason or (model.FAILED if runtime.plan_run.failed else model.SUCCESS)
        else:
            status = runtime.stop_reason or model.final_status(results, expected, runtime.bolt_errors > 0 or crashed)
        if runtime.spec.kind == "puppet":  # Bolt's 1 also counts agent exit 2, a success here
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
        """Cancel a queued or running execution, whichever process runs it; a finished one is a 409."""
        record = self.require(execution_id)
        if record["status"] in model.FINAL:
            raise ConflictError(
                f"execution is already {record['status']}", code="not_cancellable", details={"status": record["status"]}
            )
        runtime = self._runtimes.get(execution_id)
        if runtime is not None:
            self.stop_owned(execution_id, model.CANCELLED)
            runtime.done.wait(self.settings.kill_grace_seconds + 1)  # answer with the final state
        elif self.cluster.claim(execution_id, self.worker.id):  # still waiting in the queue: it ends here
            self._held.pop(execution_id, None)
            self._record_without_run(execution_id, model.CANCELLED)
        else:  # its owner is another process: ask it, and wait for it to record the end
            self.cluster.request_stop(execution_id, model.CANCELLED)
            self.streams.broker.notify("cancel", {"executionId": execution_id})
            self.wait(execution_id, self.settings.kill_grace_seconds + 2)
        return self.require(execution_id)

    def stop_owned(self, execution_id: str, reason: str) -> bool:
        """Stop an execution this process runs (a cancel notice, a stop request, shutdown); False if not ours."""
        runtime = self._runtimes.get(execution_id)
        if runtime is None:
            return False
        if runtime.stop_reason is None:
            runtime.stop_reason = reason
        if runtime.process is not None:
            gevent.spawn(runtime.process.terminate, self.settings.kill_grace_seconds)
        return True

    def forget_held_elsewhere(self) -> None:
        """Drop the specs held for executions that another process claimed (or that ended)."""
        if self._held:
            for execution_id in self.cluster.taken_by_others(list(self._held), self.worker.id):
                self._held.pop(execution_id, None)

    @property
    def accepting(self) -> bool:
        return self._accepting

    def owned_ids(self) -> list[str]:
        return list(self._runtimes)

    def lose(self, execution_id: str) -> None:
        """Another process took this execution over (our lease had lapsed): kill its Bolt, record nothing."""
        runtime = self._runtimes.get(execution_id)
        if runtime is not None:
            log.error("execution %s was taken over by another process; stopping its bolt here", execution_id)
            runtime.lost = True
            self.stop_owned(execution_id, model.INTERRUPTED)

    def wait(self, execution_id: str, timeout: float | None = None) -> dict[str, Any]:
        """The record once final, or as it is after `timeout`; follows the owner wherever it runs."""
        runtime = self._runtimes.get(execution_id)
        if runtime is not None:
            runtime.done.wait(timeout)
            return self.require(execution_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        subscription = self.streams.broker.subscribe(execution_id, 16)
        try:
            while True:
                record = self.require(execution_id)  # read after subscribing: no `complete` slips between
                left = None if deadline is None else deadline - time.monotonic()
                if record["status"] in model.FINAL or (left is not None and left <= 0):
                    return record
                subscription.get(min(left, 1.0) if left is not None else 1.0)
        finally:
            subscription.close()

    def shutdown(self, timeout: float) -> None:
        """Stop accepting runs; stop the ones this process runs and record them as interrupted.

        Queued executions stay queued for another runner (or this one's next start), except
        those whose Sensitive parameters only this process held: they end interrupted.
        """
        self._accepting = False
        runtimes = list(self._runtimes.items())
        for execution_id, _ in runtimes:
            self.stop_owned(execution_id, model.INTERRUPTED)
        for execution_id, spec in list(self._held.items()):
            if spec.has_sensitive and self.cluster.claim(execution_id, self.worker.id):
                self._held.pop(execution_id, None)
                self._record_without_run(execution_id, model.INTERRUPTED)
        deadline = time.monotonic() + timeout
        for _, runtime in runtimes:
            runtime.done.wait(max(0.0, deadline - time.monotonic()))
        self._reaper.close()

    def recover(self, execution_id: str, previous_owner: str | None, same_host: bool) -> bool:
        """Record an execution whose owner is dead as interrupted; False when another process got it first.

        Bolt processes the dead owner left on this host are killed first (its watchdog and the
        parent-death signal normally did that already).
        """
        if not self.cluster.take_over(execution_id, previous_owner, self.worker.id):
            return False
        if same_host:
            killed = kill_orphans(EXECUTION_ENV_MARKER, {execution_id})
            if killed:
                log.warning("execution %s: killed %d processes its dead owner left", execution_id, killed)
        log.warning("execution %s: its owner %s is gone; recording it as interrupted", execution_id, previous_owner)
        self._record_without_run(execution_id, model.INTERRUPTED)
        return True

    def _record_without_run(self, execution_id: str, status: str, error: dict[str, Any] | None = None) -> None:
        """Record the end of an execution this process owns but does not run (cancelled queued, recovered)."""
        record = self.require(execution_id)
        recorder = self._recorder(execution_id, self.store.last_seq(execution_id) + 1)
        if error is not None:
            recorder.event("error", error)
        finished = model.utcnow()
        duration_ms = model.ms_between(record.get("started_at") or record["created_at"], finished)
        summary = model.summarize(self.store.get_results(execution_id), record["targets"])
        complete = {"status": status, "exitCode": None, "durationMs": duration_ms, "summary": summary}
        self._set_status(
            execution_id,
            recorder,
            status,
            complete=complete,
            finished_at=finished,
            duration_ms=duration_ms,
            summary=summary,
        )
        self.streams.broker.notify("work", {})

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
        return self.cluster.queue_position(execution_id)

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
