"""`AsyncClient`: the same calls as `Client`, awaited (asyncio or trio, through httpx and anyio)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any, AsyncIterator, Callable

import anyio
import httpx
from httpx_sse import EventSource

from ._base import BaseClient, Targets, answer, json_or_none, started_id, translated
from .calls import Call
from .follow import ExecAssembly, Follow
from .models import Chunk, Event, Execution, ExecResult


class AsyncClient(BaseClient):
    """A Boltdeck server's API for async code: every call of `Client`, awaited; streams are async iterators.

    Leaving an `async for` over a stream early leaves the generator open until it is collected:
    wrap it in `contextlib.aclosing(...)` to close its connection at once.
    """

    def _connection_pool(self, headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=self._timeout())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def exec(
        self,
        command: str,
        targets: Targets | None = None,
        timeout_ms: int | None = None,
        *,
        kind: str = "command",
        params: dict[str, Any] | None = None,
    ) -> ExecResult:
        """Run `command` (or with `kind="plan"` a plan) and wait for it: all output at once (see Client)."""
        call = self._exec_call(command, targets, timeout_ms, False, kind, params)
        execution_id = started_id(await self._send(call))
        assembly = ExecAssembly(execution_id, expert=False)
        async with aclosing(self.stream(execution_id)) as events:
            async for event in events:
                assembly.feed(event)
        return assembly.result()

    async def exec_stream(
        self,
        command: str,
        targets: Targets | None = None,
        timeout_ms: int | None = None,
        *,
        expert: bool = True,
        kind: str = "command",
        params: dict[str, Any] | None = None,
    ) -> AsyncIterator[Chunk]:
        """Run `command` (or a plan), yield its output as it comes, then a last chunk with `done=True` (see Client)."""
        call = self._exec_call(command, targets, timeout_ms, expert, kind, params)
        execution_id = started_id(await self._send(call))
        assembly = ExecAssembly(execution_id, expert)
        async with aclosing(self.stream(execution_id)) as events:
            async for event in events:
                for chunk in assembly.feed(event):
                    yield chunk

    async def stream(self, execution_id: str, after: int = 0) -> AsyncIterator[Event]:
        """The execution's events after seq `after`, live, until `complete`; resumed after any drop."""
        follow = Follow(execution_id, after, self.reconnect_attempts)
        while not follow.ended:
            error = None
            try:
                async with aclosing(self._events(follow)) as events:  # closed now, also when the caller stops early
                    async for event in events:
                        yield event
            except httpx.HTTPError as exc:
                error = translated(exc)
            if not follow.ended:
                await anyio.sleep(follow.dropped(error))

    async def _events(self, follow: Follow) -> AsyncIterator[Event]:
        headers = {**follow.headers(), "Accept": "text/event-stream"}
        async with self._http.stream("GET", follow.path, headers=headers) as response:
            body = None
            if response.status_code != 200:
                await response.aread()
                body = json_or_none(response)
            if not follow.answered(response.status_code, body, dict(response.headers)):
                return
            async for message in EventSource(response).aiter_sse():
                event = follow.receive(message.event, message.data, message.retry)
                if event is not None:
                    yield event
                if follow.ended:
                    return

    async def _send(self, call: Call) -> Any:
        try:
            response = await self._http.request(
                call.method, call.path, json=call.json, params=call.params, timeout=self._timeout(call)
            )
        except httpx.HTTPError as exc:
            raise translated(exc) from exc
        return answer(response)

    async def _fetch(self, call: Call, parse: Callable[[Any], Any]) -> Any:
        return parse(await self._send(call))

    async def _run(self, call: Call) -> Execution:
        body = await self._send(call)
        return Execution.from_json(body) if call.wait else await self.execution(started_id(body))
