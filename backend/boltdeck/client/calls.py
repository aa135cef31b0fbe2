"""The API's requests as plain values: which method, path, query and body each client call sends.

Pure functions, shared by the sync and async clients, so both send exactly the same requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import quote


@dataclass(frozen=True)
class Call:
    """One HTTP request to the API; `wait` marks a request the server holds until an execution ends."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    wait: bool = False


def target_list(targets: str | Iterable[str]) -> list[str]:
    """Target and group names from a list or a comma-separated string, as Bolt's `--targets` takes them."""
    names = targets.split(",") if isinstance(targets, str) else list(targets)
    found = [name.strip() for name in names if name.strip()]
    if not found:
        raise ValueError("no targets given: name at least one inventory target or group")
    return found


def run(kind_path: str, body: dict[str, Any], expert: bool, timeout_seconds: float | None, wait: bool) -> Call:
    """A run request: the body with the options every run shares; `wait` asks for the finished execution."""
    full = {**body, "expertMode": bool(expert)}
    if timeout_seconds is not None:
        full["timeoutSeconds"] = timeout_seconds
    return Call("POST", kind_path, json=full, params={"wait": "true"} if wait else None, wait=wait)


def command_body(command: str, targets: list[str], run_as: str | None) -> dict[str, Any]:
    body = {"targets": targets, "command": command}
    return body if run_as is None else {**body, "runAs": run_as}


def task_body(task: str, targets: list[str], params: dict[str, Any] | None) -> dict[str, Any]:
    return {"targets": targets, "task": task, "params": params or {}}


def plan_body(plan: str, params: dict[str, Any] | None, targets: list[str] | None) -> dict[str, Any]:
    """A plan's run body; `targets`, when given, fill its TargetSpec parameter on the server."""
    body = {"plan": plan, "params": params or {}}
    return body if targets is None else {**body, "targets": targets}


def puppet_body(
    targets: list[str], noop: bool, environment: str | None, tags: Iterable[str] | None, debug: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"targets": targets, "noop": noop, "debug": debug}
    if environment is not None:
        body["environment"] = environment
    if tags:
        body["tags"] = list(tags)
    return body


def package_body(action: str, name: str, targets: list[str], version: str | None) -> dict[str, Any]:
    body = {"targets": targets, "action": action, "name": name}
    return body if version is None else {**body, "version": version}


def execution_path(execution_id: str, *rest: str) -> str:
    return "/".join(["/api/executions", quote(execution_id, safe=""), *rest])


def execution(execution_id: str) -> Call:
    return Call("GET", execution_path(execution_id))


def executions(filters: dict[str, Any]) -> Call:
    """History filters (status, kind, target, since, until, limit, offset); lists become comma lists."""
    params = {
        name: ",".join(value) if isinstance(value, (list, tuple, set)) else str(value)
        for name, value in filters.items()
        if value is not None
    }
    return Call("GET", "/api/executions", params=params)


def cancel(execution_id: str) -> Call:
    return Call("POST", execution_path(execution_id, "cancel"))


def rerun(execution_id: str, scope: str) -> Call:
    if scope not in ("all", "failed"):
        raise ValueError(f"scope must be 'all' or 'failed', not {scope!r}")
    return Call("POST", execution_path(execution_id, "rerun"), json={"scope": scope})


def task(name: str) -> Call:
    return Call("GET", f"/api/tasks/{quote(name, safe=':')}")


def plans() -> Call:
    return Call("GET", "/api/plans")


def plan(name: str) -> Call:
    return Call("GET", f"/api/plans/{quote(name, safe=':')}")
