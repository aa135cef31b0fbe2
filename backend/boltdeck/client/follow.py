"""Following an execution's SSE stream, and turning its events into `exec` chunks and results.

Both are state machines without I/O: the sync and async clients feed them what arrives and do
what they say (open again after so long, stop, raise), so resume works the same in both.
"""

from __future__ import annotations

import json
from typing import Any

from .calls import execution_path
from .errors import ClientError, StreamEndedError, TimeoutError, error_from_answer
from .models import Chunk, Event, ExecResult, TargetResult

DEFAULT_RETRY_MS = 3000  # what the server sends (BOLTDECK_SSE_RETRY_MS) until it has said otherwise
RETRYABLE_STATUSES = frozenset({502, 503, 504})  # a proxy or server restarting


class Follow:
    """Where one execution's stream stands, and whether and when to open it again.

    `last_seq` is the last event handed out: a reconnection asks for what follows it
    (`Last-Event-ID`), and an event at or below it is never handed out twice. The wait before a
    reconnection is the server's `retry:`. A stream that never opened fails at once (a wrong URL
    or token is not worth retrying); one that opened before gets `attempts` tries in a row.
    """

    def __init__(self, execution_id: str, after: int = 0, attempts: int = 10):
        self.execution_id = execution_id
        self.last_seq = after
        self.retry_ms = DEFAULT_RETRY_MS
        self.attempts = attempts
        self.failures = 0
        self.opened = False
        self.ended = False

    @property
    def path(self) -> str:
        return execution_path(self.execution_id, "stream")

    def headers(self) -> dict[str, str]:
        return {"Last-Event-ID": str(self.last_seq)} if self.last_seq else {}

    def answered(self, status_code: int, body: Any, headers: dict[str, str]) -> bool:
        """Whether the answer is the stream; 204 (nothing after `last_seq`) ends it; errors raise."""
        if status_code == 200:
            content_type = headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                what = content_type or "no content type"
                raise ClientError(f"{self.path} answered {what}, not an event stream", "not_a_stream")
            self.opened = True
            return True
        if status_code == 204:  # the server's "past complete": there is nothing more to follow
            self.ended = True
            return False
        if status_code in RETRYABLE_STATUSES and self.opened:
            return False
        raise error_from_answer(status_code, body, headers)

    def receive(self, event_type: str, data: str, retry: int | None) -> Event | None:
        """The event in an SSE message, unless it is a `retry:` hint or one already handed out."""
        if retry is not None:
            self.retry_ms = retry
        if not data:
            return None
        try:
            event = Event.from_json(json.loads(data))
        except (ValueError, KeyError, TypeError) as exc:
            message = f"the server sent a {event_type} event that is not an event object: {exc}"
            raise ClientError(message, "invalid_event") from exc
        if event.seq <= self.last_seq:
            return None
        self.last_seq = event.seq
        self.failures = 0
        self.ended = event.type == "complete"
        return event

    def dropped(self, error: ClientError | None) -> float:
        """Seconds to wait before opening the stream again; raises when it is not worth it."""
        if not self.opened and error is not None:
            raise error
        self.failures += 1
        if self.failures > self.attempts:
            reason = f": {error.message}" if error is not None else ""
            raise StreamEndedError(
                f"the stream of execution {self.execution_id} ended after event {self.last_seq} without its "
                f"complete event, and {self.attempts} reconnections failed{reason}",
                self.execution_id,
                self.last_seq,
            )
        return self.retry_ms / 1000


class ExecAssembly:
    """Turns an execution's events into `exec_stream` chunks, and at the end into an `ExecResult`.

    With expert mode, chunks are the live `stdout`/`stderr` lines; without it the stream carries
    no output lines, so each target's output comes in one chunk per stream with its result (for
    a plan, with each of its steps' results; the plan's final results, from its return value,
    repeat what a step printed and make no chunk).
    """

    def __init__(self, execution_id: str, expert: bool):
        self.execution_id = execution_id
        self.expert = expert
        self.kind = ""
        self.order: list[str] = []
        self.limit_seconds: float | None = None
        self.results: dict[str, TargetResult] = {}
        self.step_results: list[TargetResult] = []
        self.plan_result: dict[str, Any] = {}
        self.complete: dict[str, Any] | None = None

    def feed(self, event: Event) -> list[Chunk]:
        """The chunks this event makes; raises TimeoutError when the execution timed out."""
        if event.type == "start":
            self.kind = event.data.get("kind") or ""
            self.order = list(event.data.get("expandedTargets") or event.data.get("targets") or [])
            self.limit_seconds = event.data.get("timeoutSeconds")
        elif event.type in ("stdout", "stderr") and self.expert:
            return [Chunk(event.type, event.target, event.data.get("text", ""), event.seq, self.execution_id)]
        elif event.type == "stepResult":
            result = TargetResult.from_json(event.data)
            self.step_results.append(result)
            if not self.expert:
                return self._result_chunks(result, event.seq)
        elif event.type == "result":
            result = TargetResult.from_json(event.data)
            self.results[result.target] = result
            if not self.expert and not self.is_plan:
                return self._result_chunks(result, event.seq)
        elif event.type == "message":
            return [Chunk("message", None, event.data.get("text", "") + "\n", event.seq, self.execution_id)]
        elif event.type == "planResult":
            self.plan_result = event.data
        elif event.type == "complete":
            self.complete = event.data
            return [self._done(event.seq)]
        return []

    @property
    def is_plan(self) -> bool:
        return self.kind == "plan"

    def _result_chunks(self, result: TargetResult, seq: int) -> list[Chunk]:
        texts = (("stdout", result.stdout), ("stderr", result.stderr))
        return [Chunk(kind, result.target, text, seq, self.execution_id) for kind, text in texts if text]

    def _done(self, seq: int) -> Chunk:
        result = self.result()
        if result.status == "timed_out":
            limit = f" (its limit: {self.limit_seconds:g} s)" if self.limit_seconds else ""
            raise TimeoutError(
                f"execution {self.execution_id} timed out after {(result.duration_ms or 0) / 1000:.1f} s{limit}",
                "timed_out",
                execution_id=self.execution_id,
                result=result,
            )
        return Chunk(
            "done", None, "", seq, self.execution_id, done=True, status=result.status, exit_code=result.exit_code,
            duration_ms=result.duration_ms, value=result.value,
        )  # fmt: skip

    def result(self) -> ExecResult:
        """The execution as far as the events went (complete once the `complete` event was fed)."""
        complete = self.complete or {}
        results = [self.results[name] for name in self._targets() if name in self.results]
        printed = self.step_results if self.is_plan else results
        return ExecResult(
            execution_id=self.execution_id,
            status=complete.get("status", "running"),
            exit_code=self._exit_code(results, complete.get("exitCode")),
            duration_ms=complete.get("durationMs"),
            output=_output(printed, several=len({r.target for r in printed} | set(self._targets())) > 1),
            results=results,
            value=self.plan_result.get("value"),
            error=self.plan_result.get("error"),
        )

    def _targets(self) -> list[str]:
        return self.order + [name for name in self.results if name not in self.order]

    def _exit_code(self, results: list[TargetResult], execution_code: int | None) -> int | None:
        one_command = not self.is_plan and len(self._targets()) == 1
        if one_command and results and results[0].exit_code is not None:
            return results[0].exit_code  # the command's own, as a single-machine exec would report it
        return execution_code


def _output(results: list[TargetResult], several: bool) -> str:
    """Each result's stdout then stderr; with several targets each line (split at \\n only) prefixed `[target] `."""
    if not several:
        return "".join(r.stdout + r.stderr for r in results)
    lines = []
    for result in results:
        text = result.stdout + result.stderr
        lines += [f"[{result.target}] {line}\n" for line in text.removesuffix("\n").split("\n") if text]
    return "".join(lines)
