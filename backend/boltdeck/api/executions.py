"""Execution history, detail, polling, output download, cancel and rerun."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, request

from ..bolt.parser import ANSI
from ..errors import ValidationError
from ..executions.model import FINAL, iso_utc
from ..extensions import services
from ..schemas import (
    EventPageSchema,
    EventsQueryArgsSchema,
    ExecutionQueryArgsSchema,
    ExecutionSchema,
    OutputQueryArgsSchema,
    RerunSchema,
    load,
)
from ..storage import ExecutionFilter
from .auth import audit, requires, user_name

bp = Blueprint("executions", __name__, url_prefix="/api/executions")
LIST_ARGS = ("status", "kind")


def links_for(execution_id: str) -> dict[str, str]:
    base = f"/api/executions/{execution_id}"
    return {"self": base, "stream": f"{base}/stream", "events": f"{base}/events"}


EXECUTION_SCHEMA = ExecutionSchema()


def execution_body(record: dict, with_results: bool = True) -> dict:
    """An execution as the API shows it; the command line only for expert-mode executions."""
    found = services()
    data = dict(record)
    if not data["expert_mode"]:
        data["command_line"] = None
    data["queue_position"] = found.executions.queue_position(record["id"]) if record["status"] == "queued" else None
    if with_results:
        data["results"] = found.store.get_results(record["id"])
    data["links"] = links_for(record["id"])
    return EXECUTION_SCHEMA.dump(data)


def query_args(list_keys: tuple[str, ...]) -> dict:
    """The query string as a dict; each of `list_keys` a list (repeated and/or comma-separated)."""
    args = {k: v for k, v in request.args.items() if k not in list_keys}
    for key in list_keys:
        values = [v for raw in request.args.getlist(key) for v in raw.split(",") if v]
        if values:
            args[key] = values
    return args


def iso_filter_time(value, field: str) -> str | None:
    """A filter time as the sortable UTC text the store compares (zero-padded year)."""
    if value is None:
        return None
    try:
        return iso_utc(value)
    except OverflowError:
        raise ValidationError(f"{field} is out of range", details={field: ["out of range"]}) from None


@bp.get("")
@requires("read")
def list_executions():
    args = load(ExecutionQueryArgsSchema(), query_args(LIST_ARGS))
    query = ExecutionFilter(
        status=args["status"],
        kind=args["kind"],
        target=args.get("target"),
        since=iso_filter_time(args.get("since"), "since"),
        until=iso_filter_time(args.get("until"), "until"),
        limit=args["limit"],
        offset=args["offset"],
    )
    rows, total = services().executions.list(query)
    return {
        "items": [execution_body(r, with_results=False) for r in rows],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }


@bp.get("/<execution_id>")
@requires("read")
def show_execution(execution_id: str):
    return execution_body(services().executions.require(execution_id))


@bp.get("/<execution_id>/events")
@requires("read")
def list_events(execution_id: str):
    args = load(EventsQueryArgsSchema(), request.args.to_dict())
    found = services()
    record = found.executions.require(execution_id)
    types = found.streams.visible_types(execution_id)
    if "before" in args:  # paging back: the last `limit` visible events before a seq
        page = found.store.read_events_tail(execution_id, args["before"], args["limit"], types)
        next_after = args["after"]
    else:
        page = found.store.read_events(execution_id, after=args["after"], limit=args["limit"])
        next_after = page[-1].seq if page else args["after"]
        page = [e for e in page if e.type in types]
    complete = record["status"] in FINAL and found.store.last_seq(execution_id) <= next_after
    body = {"events": [json.loads(e.body) for e in page], "nextAfter": next_after, "complete": complete}
    return EventPageSchema().dump(body)


@bp.get("/<execution_id>/output")
@requires("read")
def download_output(execution_id: str):
    args = load(OutputQueryArgsSchema(), request.args.to_dict())
    found = services()
    record = found.executions.require(execution_id)
    target = args.get("target")
    if record["expert_mode"]:
        chunks = [
            (e.target, json.loads(e.body)["data"]["text"])
            for e in found.store.read_events(execution_id, types=("stdout", "stderr"), target=target)
        ]
    else:  # without expert mode only the per-target results carry output
        chunks = [
            (r["target"], (r["stdout"] or "") + (r["stderr"] or ""))
            for r in found.store.get_results(execution_id)
            if target is None or r["target"] == target
        ]
    text = "".join(c if target else _prefixed(t, c) for t, c in chunks)
    if args["format"] == "txt":
        text = ANSI.sub("", text)
    suffix = "-" + re.sub(r"[^A-Za-z0-9._-]", "_", target) if target else ""
    name = f"execution-{execution_id}{suffix}.{args['format']}"
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )


def _prefixed(target: str | None, text: str) -> str:
    return "".join(f"[{target}] {line}" for line in text.splitlines(keepends=True))


@bp.post("/<execution_id>/cancel")
@requires("run")
def cancel_execution(execution_id: str):
    execution = services().executions.cancel(execution_id)
    audit("cancel", execution_id=execution_id, status=execution["status"], via="http")
    return execution_body(execution)


@bp.post("/<execution_id>/rerun")
@requires("run")
def rerun_execution(execution_id: str):
    from .runs import authorize_plan, started_by

    args = load(RerunSchema(), request.get_json(silent=True) or {})
    return started_by(
        lambda: services().executions.rerun(execution_id, args["scope"], authorize=authorize_plan, created_by=user_name()),
        "rerun",
        parentId=execution_id,
        scope=args["scope"],
    )
