"""Execution history, detail, polling, output download, cancel and rerun."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from flask import Blueprint, Response, request

from ..auth import role_allows
from ..bolt.parser import ANSI
from ..errors import ForbiddenError, NotFoundError, ValidationError
from ..executions.model import EVENT_TYPES, FINAL, iso_utc
from ..executions.panes import line_range, pane_lines, search_lines, search_pattern
from ..extensions import services
from ..schemas import (
    EventPageSchema,
    EventsQueryArgsSchema,
    ExecutionQueryArgsSchema,
    ExecutionSchema,
    OutputQueryArgsSchema,
    PaneLinesArgsSchema,
    PaneLinesSchema,
    PaneSearchArgsSchema,
    PaneSearchSchema,
    RerunSchema,
    load,
)
from ..storage import AuditFilter, ExecutionFilter, ExecutionStore
from .auth import audit, principal, requires, user_name

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
    body = EXECUTION_SCHEMA.dump(data)
    if with_results and record["status"] == "cancelled":
        body["cancelledBy"] = cancelled_by(record["id"])
    if with_results and record["kind"] == "plan":
        body["planResult"] = plan_result(record["id"])
    return body


def plan_result(execution_id: str) -> dict | None:
    """A plan's return value or error (its `planResult` event), None until the plan has ended."""
    found = services().store.read_events_tail(execution_id, before=2**62, limit=1, types=("planResult",))
    return json.loads(found[0].body)["data"] if found else None


def cancelled_by(execution_id: str) -> dict | None:
    """Who asked first to cancel an execution, and when: the audit log records it (HTTP and WebSocket)."""
    log = services().accounts.accounts
    query = AuditFilter(action=("cancel",), outcome="ok", execution_id=execution_id, limit=1)
    _, total = log.list_audit(query)
    if not total:
        return None
    first = log.list_audit(replace(query, offset=total - 1))[0][0]
    return {"user": first["user"], "at": first["at"], "via": first["detail"].get("via")}


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
        created_by=args.get("createdBy"),
        q=args.get("q"),
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
    if args["full"]:
        allow_full_log(execution_id, "events")
    types = EVENT_TYPES if args["full"] else found.streams.visible_types(execution_id)
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


def allow_full_log(execution_id: str, what: str, **detail) -> None:
    """Let an admin read everything the log recorded (an explicit, audited request); refuse others."""
    found = principal()
    if not role_allows(found.role, "admin"):
        audit("forbidden", outcome="denied", execution_id=execution_id, role=found.role, path=request.path, full=True)
        raise ForbiddenError(
            "full=true reads everything the log recorded, also output an execution without expert mode "
            f"does not show; only admins may ask for it (your role is {found.role})",
            details={"full": ["admins only"], "role": [found.role]},
        )
    audit("full_log_read", execution_id=execution_id, what=what, **detail)


@bp.get("/<execution_id>/output")
@requires("read")
def download_output(execution_id: str):
    """One target's output, or every target's with `[target] ` prefixes; the results are the authority."""
    args = load(OutputQueryArgsSchema(), request.args.to_dict())
    found = services()
    record = found.executions.require(execution_id)
    target = args.get("target")
    targets = require_target(found.store, record, target)
    if args["full"]:
        allow_full_log(execution_id, "output", target=target)
    with_stream = record["expert_mode"] or args["full"]
    texts = output_texts(found.store, execution_id, [target] if target else targets, with_stream)
    text = texts[target] if target else "".join(_prefixed(t, x) for t, x in texts.items())
    if args["format"] == "txt":
        text = ANSI.sub("", text)
    suffix = "-" + re.sub(r"[^A-Za-z0-9._-]", "_", target) if target else ""
    name = f"execution-{execution_id}{suffix}.{args['format']}"
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )


SHOWN_TEXT_CHARS = 1000  # of a matching line, in a search's answer


@bp.get("/<execution_id>/search")
@requires("read")
def search_output(execution_id: str):
    """Lines of one pane that hold a text, numbered as the web UI numbers them (for logs it no longer keeps)."""
    args = load(PaneSearchArgsSchema(), request.args.to_dict())
    pattern = search_pattern(args["q"])
    matches, count, total = search_lines(_pane(execution_id, args), pattern, args["stream"], args.get("before"), args["limit"])
    found = [{**line.body(with_text=False), "text": line.shown()[:SHOWN_TEXT_CHARS]} for line in matches]
    return PaneSearchSchema().dump({"matches": found, "count": count, "lines": total})


@bp.get("/<execution_id>/lines")
@requires("read")
def read_lines(execution_id: str):
    """Lines `from`, `from` + 1, … of one pane, raw (the viewer draws them), numbered as it numbers them."""
    args = load(PaneLinesArgsSchema(), request.args.to_dict())
    chosen, total = line_range(_pane(execution_id, args), args["start"], args["start"] + args["count"])
    return PaneLinesSchema().dump({"lines": [line.body() for line in chosen], "total": total})


def _pane(execution_id: str, args: dict):
    """The lines of the pane `args` names (a target of the execution, or Bolt's log), as the viewer sees them."""
    found = services()
    record = found.executions.require(execution_id)
    target = args.get("target")
    require_target(found.store, record, target)
    visible = found.streams.visible_types(execution_id)
    return pane_lines(found.store, execution_id, bool(record["expert_mode"]), target, visible)


def require_target(store: ExecutionStore, record: dict, target: str | None) -> list[str]:
    """The execution's targets, once `target` (if given) is one of them (else 404 naming it)."""
    targets = execution_targets(store, record)
    if target is not None and target not in targets:
        raise NotFoundError(
            f"{target!r} is not a target of execution {record['id']}",
            details={"target": ["not a target of this execution (as asked, or as its groups expanded)"]},
        )
    return targets


def execution_targets(store: ExecutionStore, record: dict) -> list[str]:
    """Every name an execution may have output for, in order: expanded targets first, then as asked."""
    start = store.read_events(record["id"], types=("start",), limit=1)
    expanded = (json.loads(start[0].body)["data"].get("expandedTargets") or []) if start else []
    with_results = [r["target"] for r in store.get_results(record["id"])]
    return list(dict.fromkeys([*expanded, *record["targets"], *with_results]))


def output_texts(store: ExecutionStore, execution_id: str, targets: list[str], with_stream: bool) -> dict[str, str]:
    """Each target's text: its result's stdout then stderr once it has them, else what was streamed.

    Bolt's result holds exactly what the command printed; its live `--stream` lines do not
    (docs/api.md, "Live output and final text"). Without expert mode only results are shown.
    """
    results = {r["target"]: r for r in store.get_results(execution_id)}
    streamed: dict[str, list[tuple[str, str]]] = {t: [] for t in targets}
    if with_stream:
        only = targets[0] if len(targets) == 1 else None
        for event in store.read_events(execution_id, types=("stdout", "stderr"), target=only):
            if event.target in streamed:
                streamed[event.target].append((event.type, json.loads(event.body)["data"]["text"]))
    return {t: _target_text(results.get(t), streamed[t]) for t in targets}


def _target_text(result: dict | None, streamed: list[tuple[str, str]]) -> str:
    if result is None:  # still running, cancelled, timed out: only the stream has its output
        return "".join(text for _, text in streamed)
    return "".join(
        result[kind] if result.get(kind) is not None else "".join(t for k, t in streamed if k == kind)
        for kind in ("stdout", "stderr")
    )


def _prefixed(target: str, text: str) -> str:
    """Prefix each line (split at \n only, so \r stays) with `[target] `; end the last line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return "".join(f"[{target}] {line}\n" for line in lines)


@bp.post("/<execution_id>/cancel")
@requires("run")
def cancel_execution(execution_id: str):
    execution = services().executions.cancel(execution_id)
    audit("cancel", execution_id=execution_id, status=execution["status"], via="http")
    return execution_body(execution)


@bp.post("/<execution_id>/rerun")
@requires("run")
def rerun_execution(execution_id: str):
    from .runs import authorize_run, started_by

    args = load(RerunSchema(), request.get_json(silent=True) or {})
    return started_by(
        lambda: services().executions.rerun(execution_id, args["scope"], authorize=authorize_run, created_by=user_name()),
        "rerun",
        parentId=execution_id,
        scope=args["scope"],
    )
