"""`Client`: the blocking client, for scripts and the `boltdeck` command line."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import httpx
from httpx_sse import EventSource

from ._base import BaseClient, Targets, answer, json_or_none, started_id, translated
from .calls import Call
from .follow import ExecAssembly, Follow
from .models import Chunk, Event, Execution, ExecResult


class Client(BaseClient):
    """A Boltdeck server's API, one call at a time; close it (or use `with`) when done.

    >>> with Client("http://127.0.0.1:8000", token=token, targets="web01") as client:
    ...     print(client.exec("uptime").output)
    """

    def _connection_pool(self, headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=self._timeout())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def exec(
        self,
        command: str,
        targets: Targets | None = None,
        timeout_ms: int | None = None,
        *,
        kind: str = "command",
        params: dict[str, Any] | None = None,
    ) -> ExecResult:
        """Run `command` and wait for it: all output at once (TimeoutError past `timeout_ms`).

        With `kind="plan"`, `command` names a plan run with `params`; the result also holds
        the plan's return value (`value`) or its error (`error`).
        """
        call = self._exec_call(command, targets, timeout_ms, False, kind, params)
        execution_id = started_id(self._send(call))
        assembly = ExecAssembly(execution_id, expert=False)
        for event in self.stream(execution_id):
            assembly.feed(event)
        return assembly.result()

    def exec_stream(
        self,
        command: str,
        targets: Targets | None = None,
        timeout_ms: int | None = None,
        *,
        expert: bool = True,
        kind: str = "command",
        params: dict[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        """Run `command` and yield its output as it comes, then a last chunk with `done=True`.

        Live lines need expert mode (the default here; the policy's `expert_mode_roles` must
        include your role); with `expert=False` each target's output comes when it finishes
        (a plan's: when each step finishes on it). A plan's `out::message` texts come as
        `message` chunks, and the last chunk holds its return value.
        """
        call = self._exec_call(command, targets, timeout_ms, expert, kind, params)
        execution_id = started_id(self._send(call))
        assembly = ExecAssembly(execution_id, expert)
        for event in self.stream(execution_id):
            yield from assembly.feed(event)

    def stream(self, execution_id: str, after: int = 0) -> Iterator[Event]:
        """The execution's events after seq `after`, live, until `complete`; resumed after any drop."""
        follow = Follow(execution_id, after, self.reconnect_attempts)
        while not follow.ended:
            error = None
            try:
                yield from self._events(follow)
            except httpx.HTTPError as exc:
                error = translated(exc)
            if not follow.ended:
                time.sleep(follow.dropped(error))

    def _events(self, follow: Follow) -> Iterator[Event]:
        headers = {**follow.headers(), "Accept": "text/event-stream"}
        with self._http.stream("GET", follow.path, headers=headers) as response:
            body = None
            if response.status_code != 200:
                response.read()
                body = json_or_none(response)
            if not follow.answered(response.status_code, body, dict(response.headers)):
                return
            for message in EventSource(response).iter_sse():
                event = follow.receive(message.event, message.data, message.retry)
                if event is not None:
                    yield event
                if follow.ended:
                    return

    def _send(self, call: Call) -> Any:
        try:
            response = self._http.request(
                call.method, call.path, json=call.json, params=call.params, timeout=self._timeout(call)
            )
        except httpx.HTTPError as exc:
            raise translated(exc) from exc
        return answer(response)

    def _fetch(self, call: Call, parse: Callable[[Any], Any]) -> Any:
        return parse(self._send(call))

    def _run(self, call: Call) -> Execution:
        body = self._send(call)
        return Execution.from_json(body) if call.wait else self.execution(started_id(body))

