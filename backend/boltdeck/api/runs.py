"""What every run endpoint shares: parse, start, then answer 202, wait, or stream."""

from __future__ import annotations

from flask import request
from marshmallow import Schema

from ..extensions import services
from ..schemas import load
from .executions import execution_body, links_for
from .streaming import sse_response


def start_run(kind: str, schema: Schema):
    """Start an execution of `kind` from the JSON body; answer as the request asks."""
    body = load(schema, request.get_json(silent=True))
    found = services()
    execution = found.executions.start(kind, body)
    return answer_started(execution)


def answer_started(execution: dict):
    """202 with links; `Accept: text/event-stream` streams it; `?wait=true` answers the finished one."""
    found = services()
    execution_id = execution["id"]
    if request.accept_mimetypes.best == "text/event-stream":
        return sse_response(execution_id, after=0)
    if request.args.get("wait", "").lower() in ("1", "true", "yes"):
        finished = found.executions.wait(execution_id)
        return execution_body(finished), 200
    return {"executionId": execution_id, "status": execution["status"], "links": links_for(execution_id)}, 202
