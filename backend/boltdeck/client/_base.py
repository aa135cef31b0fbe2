"""What the sync and async clients share: settings, and every API call written once.

Each call method builds its request with `calls` and hands it to `_run` or `_fetch`, which the
sync client implements by answering and the async one by returning an awaitable; so
`client.execution(id)` and `await aclient.execution(id)` take the same arguments by construction.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import httpx

from .. import __version__
from . import calls
from .calls import Call, target_list
from .errors import ClientError, ConnectionError, TimeoutError, error_from_answer
from .models import Execution, ExecutionPage

Targets = str | Iterable[str]


class BaseClient:
    """Settings: server URL and token (default BOLTDECK_URL and BOLTDECK_TOKEN), timeout, default targets.

    `timeout` (seconds) bounds connecting and each wait for the server, also between two bytes of
    a stream (the server pings every BOLTDECK_SSE_HEARTBEAT_SECONDS, 15 by default: keep it
    above that); a stream that stays silent longer is treated as dropped and resumed.
    `targets` are used by calls given none, so `client.exec("uptime")` runs somewhere.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = 30.0,
        targets: Targets | None = None,
        reconnect_attempts: int = 10,
    ):
        base_url = base_url or os.environ.get("BOLTDECK_URL")
        if not base_url:
            raise ValueError("no server URL: pass base_url or set BOLTDECK_URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.targets = None if targets is None else target_list(targets)
        self.reconnect_attempts = reconnect_attempts
        token = token if token is not None else os.environ.get("BOLTDECK_TOKEN")
        headers = {"Accept": "application/json", "User-Agent": f"boltdeck-client/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = self._connection_pool(headers)

    def _connection_pool(self, headers: dict[str, str]):
        raise NotImplementedError

    def _targets(self, targets: Targets | None) -> list[str]:
        if targets is not None:
            return target_list(targets)
        if self.targets is None:
            raise ValueError("no targets: pass targets=... or create the client with default targets")
        return self.targets

    def _timeout(self, call: Call | None = None) -> httpx.Timeout:
        """The client's timeout; a `?wait=true` request waits for the execution however long it runs."""
        if call is not None and call.wait:
            return httpx.Timeout(self.timeout, read=None)
        return httpx.Timeout(self.timeout)

    def run_command(
        self,
        command: str,
        targets: Targets | None = None,
        *,
        expert: bool = False,
        timeout_seconds: float | None = None,
        run_as: str | None = None,
        wait: bool = False,
    ):
        """Run a shell command; the new Execution (with `wait=True`, once finished)."""
        body = calls.command_body(command, self._targets(targets), run_as)
        return self._run(calls.run("/api/commands", body, expert, timeout_seconds, wait))

    def run_task(
        self,
        task: str,
        targets: Targets | None = None,
        params: dict[str, Any] | None = None,
        *,
        expert: bool = False,
        timeout_seconds: float | None = None,
        wait: bool = False,
    ):
        """Run a Bolt task with typed `params` (checked by the server against the task's metadata)."""
        body = calls.task_body(task, self._targets(targets), params)
        return self._run(calls.run("/api/tasks/run", body, expert, timeout_seconds, wait))

    def run_puppet(
        self,
        targets: Targets | None = None,
        *,
        noop: bool = False,
        environment: str | None = None,
        tags: Iterable[str] | None = None,
        debug: bool = False,
        expert: bool = False,
        timeout_seconds: float | None = None,
        wait: bool = False,
    ):
        """Run the Puppet agent (`puppet agent --test`, `noop=True` for a dry run)."""
        body = calls.puppet_body(self._targets(targets), noop, environment, tags, debug)
        return self._run(calls.run("/api/puppet/runs", body, expert, timeout_seconds, wait))

    def run_package(
        self,
        action: str,
        name: str,
        targets: Targets | None = None,
        *,
        version: str | None = None,
        expert: bool = False,
        timeout_seconds: float | None = None,
        wait: bool = False,
    ):
        """Install, uninstall, upgrade or ask the status of a package (Bolt's `package` task)."""
        body = calls.package_body(action, name, self._targets(targets), version)
        return self._run(calls.run("/api/packages", body, expert, timeout_seconds, wait))

    def run_plan(
        self,
        plan: str,
        targets: Targets | None = None,
        params: dict[str, Any] | None = None,
        *,
        expert: bool = False,
        timeout_seconds: float | None = None,
        wait: bool = False,
    ):
        """Run a Bolt plan with typed `params` (checked by the server against the plan's metadata).

        `targets` fill the plan's TargetSpec parameter (`targets`, else its only one); the
        client's default targets are not used, since a plan may take none, or several.
        """
        body = calls.plan_body(plan, params, _plan_targets(targets))
        return self._run(calls.run("/api/plans/run", body, expert, timeout_seconds, wait))

    def execution(self, execution_id: str):
        """One execution with its per-target results."""
        return self._fetch(calls.execution(execution_id), Execution.from_json)

    def executions(self, **filters: Any):
        """A page of the history: status (a name or a list), kind, target, since, until, limit, offset."""
        return self._fetch(calls.executions(filters), ExecutionPage.from_json)

    def cancel(self, execution_id: str):
        """Cancel a queued or running execution; the Execution once it has stopped (ConflictError if finished)."""
        return self._fetch(calls.cancel(execution_id), Execution.from_json)

    def rerun(self, execution_id: str, scope: str = "all"):
        """Run an execution again on all its targets, or (`scope="failed"`) on those that failed; the new one."""
        return self._run(calls.rerun(execution_id, scope))

    def task(self, name: str):
        """A task's metadata: description and parameters with their Puppet types."""
        return self._fetch(calls.task(name), dict)

    def plans(self):
        """The plans one may run: `[{"name", "description"}]`, sorted, private plans left out."""
        return self._fetch(calls.plans(), lambda body: list(body["plans"]))

    def plan(self, name: str):
        """A plan's metadata: description and parameters (type, default, `targetSpec`)."""
        return self._fetch(calls.plan(name), dict)

    def _exec_call(
        self,
        name: str,
        targets: Targets | None,
        timeout_ms: int | None,
        expert: bool,
        kind: str,
        params: dict[str, Any] | None,
    ) -> Call:
        """The run request of `exec`: a shell command, or (`kind="plan"`) a plan with its `params`."""
        timeout_seconds = None if timeout_ms is None else timeout_ms / 1000
        if kind == "plan":
            body = calls.plan_body(name, params, _plan_targets(targets))
            return calls.run("/api/plans/run", body, expert, timeout_seconds, False)
        if kind != "command":
            raise ValueError(f"kind must be 'command' or 'plan', not {kind!r}")
        if params:
            raise ValueError("params are for plans (kind='plan'): a command takes none")
        body = calls.command_body(name, self._targets(targets), None)
        return calls.run("/api/commands", body, expert, timeout_seconds, False)

    def _run(self, call: Call):
        raise NotImplementedError

    def _fetch(self, call: Call, parse):
        raise NotImplementedError


def _plan_targets(targets: Targets | None) -> list[str] | None:
    return None if targets is None else target_list(targets)


def answer(response: httpx.Response) -> Any:
    """The JSON of a success; the API's error, as its exception, otherwise."""
    if response.status_code >= 400:
        raise error_from_answer(response.status_code, json_or_none(response), dict(response.headers))
    return json_or_none(response)


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def translated(exc: httpx.HTTPError) -> ClientError:
    """httpx's failure as this client's: a timeout, or a connection that failed."""
    try:
        where = f"{exc.request.method} {exc.request.url}"
    except RuntimeError:  # an error raised before any request was made
        where = "the server"
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"{where}: no answer in time ({type(exc).__name__})", "client_timeout")
    return ConnectionError(f"{where}: {exc or type(exc).__name__}", "connection_failed")


def started_id(body: Any) -> str:
    """The id in a run request's 202 answer."""
    return body["executionId"]
