"""GET /api/openapi.json: an OpenAPI 3 document built from the marshmallow schemas."""

from __future__ import annotations

from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint

from .. import __version__
from ..schemas import requests as rq
from ..schemas import responses as rs

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = {"$ref": "#/components/schemas/Error"}
RUN_KINDS = {
    "/commands": ("Run a shell command on targets", "CommandRun"),
    "/tasks/run": ("Run a Bolt task on targets", "TaskRun"),
    "/puppet/runs": ("Run the Puppet agent on targets", "PuppetRun"),
    "/packages": ("Install, remove, upgrade or inspect a package", "PackageRun"),
}
OBJECT = {"type": "object"}


def _json(schema) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    return {str(code): {"description": "error", **_json(ERROR)} for code in codes}


def _ok(description: str, schema=OBJECT, code: int = 200) -> dict:
    return {str(code): {"description": description, **_json(schema)}}


def _execution_id() -> dict:
    return {"in": "path", "name": "execution_id", "required": True, "schema": {"type": "string"}}


def _path_name(name: str) -> dict:
    return {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}


@lru_cache(maxsize=1)
def build_spec() -> dict:
    spec = APISpec("Boltdeck", __version__, "3.0.3", plugins=[MarshmallowPlugin()])
    for name, schema in {
        "CommandRun": rq.CommandRunSchema,
        "TaskRun": rq.TaskRunSchema,
        "PuppetRun": rq.PuppetRunSchema,
        "PackageRun": rq.PackageRunSchema,
        "Rerun": rq.RerunSchema,
        "Execution": rs.ExecutionSchema,
        "EventPage": rs.EventPageSchema,
    }.items():
        spec.components.schema(name, schema=schema)
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
                }
            },
        },
    )
    execution = {"$ref": "#/components/schemas/Execution"}
    started = {
        "type": "object",
        "required": ["executionId", "status", "links"],
        "properties": {"executionId": {"type": "string"}, "status": {"type": "string"}, "links": OBJECT},
    }
    spec.path("/api/health", operations={"get": {"summary": "Server, Bolt and database health", "responses": _ok("health")}})
    spec.path("/api/inventory", operations={"get": {"summary": "Targets and groups", "responses": {**_ok("inventory"), **_errors(502, 503)}}})
    spec.path(
        "/api/inventory/targets/{name}",
        operations={"get": {"summary": "One target", "parameters": [_path_name("name")], "responses": {**_ok("target"), **_errors(404, 502, 503)}}},
    )
    spec.path(
        "/api/targets/{name}/facts",
        operations={"get": {"summary": "Facts gathered by Bolt", "parameters": [_path_name("name")], "responses": {**_ok("facts"), **_errors(404, 502, 503)}}},
    )
    spec.path("/api/tasks", operations={"get": {"summary": "Tasks of the Bolt project", "responses": {**_ok("tasks"), **_errors(502, 503)}}})
    spec.path(
        "/api/tasks/{name}",
        operations={"get": {"summary": "One task's metadata", "parameters": [_path_name("name")], "responses": {**_ok("task"), **_errors(404, 502, 503)}}},
    )
    wait = {"in": "query", "name": "wait", "schema": {"type": "boolean"}, "description": "block until the end"}
    for path, (summary, schema_name) in RUN_KINDS.items():
        spec.path(
            "/api" + path,
            operations={
                "post": {
                    "summary": summary,
                    "parameters": [wait],
                    "requestBody": {"required": True, **_json({"$ref": f"#/components/schemas/{schema_name}"})},
                    "responses": {**_ok("finished (wait=true)", execution), **_ok("started", started, 202), **_errors(400, 409, 502, 503)},
                }
            },
        )
    spec.path(
        "/api/executions",
        operations={
            "get": {
                "summary": "Execution history",
                "parameters": [{"in": "query", "schema": rq.ExecutionQueryArgsSchema}],
                "responses": {**_ok("page of executions"), **_errors(400)},
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}",
        operations={"get": {"summary": "One execution with results", "parameters": [_execution_id()], "responses": {**_ok("execution", execution), **_errors(404)}}},
    )
    spec.path(
        "/api/executions/{execution_id}/events",
        operations={
            "get": {
                "summary": "Events after a seq (polling) or before one (paging back)",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.EventsQueryArgsSchema}],
                "responses": {**_ok("events", {"$ref": "#/components/schemas/EventPage"}), **_errors(400, 404)},
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}/output",
        operations={
            "get": {
                "summary": "Output download",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.OutputQueryArgsSchema}],
                "responses": {"200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}}, **_errors(400, 404)},
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}/cancel",
        operations={"post": {"summary": "Cancel", "parameters": [_execution_id()], "responses": {**_ok("stopped", execution), **_errors(404, 409)}}},
    )
    spec.path(
        "/api/executions/{execution_id}/rerun",
        operations={
            "post": {
                "summary": "Re-run on all or the failed targets",
                "parameters": [_execution_id(), wait],
                "requestBody": {"required": False, **_json({"$ref": "#/components/schemas/Rerun"})},
                "responses": {**_ok("finished (wait=true)", execution), **_ok("started", started, 202), **_errors(400, 404, 409, 502, 503)},
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}/stream",
        operations={
            "get": {
                "summary": "Server-Sent Events: replay after Last-Event-ID or ?after, then live",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.StreamQueryArgsSchema}],
                "responses": {"200": {"description": "event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}, **_errors(400, 404)},
            }
        },
    )
    spec.path("/api/streaming/stats", operations={"get": {"summary": "Streaming counters", "responses": _ok("stats")}})
    spec.path("/api/openapi.json", operations={"get": {"summary": "This document", "responses": _ok("OpenAPI document")}})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    return build_spec()
