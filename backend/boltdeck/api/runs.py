"""What every run endpoint shares: parse, authorize, start, then answer 202, wait, or stream."""

from __future__ import annotations

from typing import Callable

from flask import request
from marshmallow import Schema

from ..bolt.project import project_name
from ..errors import ForbiddenError, RateLimitedError
from ..executions.runspec import RunSpec
from ..extensions import services
from ..schemas import load
from .auth import audit, principal, user_name
from .executions import execution_body, links_for
from .streaming import sse_response


def start_run(kind: str, schema: Schema):
    """Start an execution of `kind` from the JSON body; answer as the request asks."""
    body = load(schema, request.get_json(silent=True))
    return started_by(lambda: services().executions.start(kind, body, authorize=authorize_run, created_by=user_name()))


def started_by(start: Callable[[], dict], action: str = "run", **detail):
    """Start an execution with `start()`, audit it, and answer as the request asks.

    A request that wants the stream takes its stream slot first: over the limit, nothing starts.
    A start refused for the user's number of active executions is audited as denied.
    """
    release = services().stream_limits.acquire(user_name()) if _wants_stream() else None
    try:
        execution = start()
    except BaseException as exc:
        if release:
            release()
        if isinstance(exc, RateLimitedError) and exc.code == "too_many_executions":
            audit(action, outcome="denied", reason=exc.message, **_limit_of(exc), **detail)
        raise
    audit_started(action, execution, **detail)
    if release:
        return sse_response(execution["id"], after=0, release=release)
    return answer_started(execution)


def _limit_of(exc: RateLimitedError) -> dict:
    return {"limit": exc.details.get("limit"), "active": exc.details.get("active")}


def _wants_stream() -> bool:
    return request.accept_mimetypes.best == "text/event-stream"


def authorize_run(spec: RunSpec) -> None:
    """The current user's role and the current policy must allow this spec (403 and audited if not)."""
    found = services()
    who = principal()
    try:
        found.policy.current().check_run(
            who.role,
            kind=spec.kind,
            shell_command=spec.shell_command,
            task=spec.task,
            plan=spec.plan,
            targets=spec.expanded_targets,
            expert_mode=spec.expert_mode,
            expand=lambda names: found.bolt.inventory().expand(names),
            params=_task_params(spec),
            apply_source=spec.apply_source,
            noop=spec.noop,
            run_as=spec.stored_request.get("runAs"),
            project=project_name(found.bolt.project),
        )
    except ForbiddenError as exc:
        audit(
            "policy_rejected",
            outcome="denied",
            kind=spec.kind,
            policy=exc.details.get("policy"),
            reason=exc.message,
            request=spec.stored_request,
            commandLine=spec.display,
        )
        raise


def _task_params(spec: RunSpec) -> dict | None:
    """The parameters the spec's task or plan gets (Sensitive values masked), for the policy's `params` rules."""
    # a task's or plan's stored params have Sensitive values masked; other kinds' (package) have none
    return spec.stored_request.get("params") if spec.kind in ("task", "plan") else spec.params


def audit_started(action: str, execution: dict, **detail) -> None:
    """Audit a started execution with its request (Sensitive parameters already masked)."""
    request_body = {k: v for k, v in execution["request"].items() if k != "hasSensitive"}
    audit(
        action,
        execution_id=execution["id"],
        kind=execution["kind"],
        request=request_body,
        commandLine=execution["command_line"],
        **detail,
    )


def answer_started(execution: dict):
    """202 with links, or with `?wait=true` the finished execution."""
    found = services()
    execution_id = execution["id"]
    if request.args.get("wait", "").lower() in ("1", "true", "yes"):
        finished = found.executions.wait(execution_id)
        return execution_body(finished), 200
    return {"executionId": execution_id, "status": execution["status"], "links": links_for(execution_id)}, 202
