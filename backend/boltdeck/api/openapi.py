"""GET /api/openapi.json: an OpenAPI 3 document built from the marshmallow schemas."""

from __future__ import annotations

from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint

from .. import __version__
from ..schemas import requests as rq
from ..schemas import responses as rs
from .auth import requires

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = {"$ref": "#/components/schemas/Error"}
RUN_KINDS = {
    "/commands": ("Run a shell command on targets", "CommandRun"),
    "/tasks/run": ("Run a Bolt task on targets", "TaskRun"),
    "/puppet/runs": ("Run the Puppet agent on targets", "PuppetRun"),
    "/packages": ("Install, remove, upgrade or inspect a package", "PackageRun"),
    "/apply/runs": ("Apply Puppet code or a project manifest on targets", "ApplyRun"),
    "/plans/run": ("Run a Bolt plan of the project", "PlanRun"),
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
        "ApplyRun": rq.ApplyRunSchema,
        "PlanRun": rq.PlanRunSchema,
        "Rerun": rq.RerunSchema,
        "Execution": rs.ExecutionSchema,
        "EventPage": rs.EventPageSchema,
        "PaneSearch": rs.PaneSearchSchema,
        "PaneLines": rs.PaneLinesSchema,
        "Login": rq.LoginSchema,
        "Session": rs.SessionSchema,
        "UserCreate": rq.UserCreateSchema,
        "UserUpdate": rq.UserUpdateSchema,
        "User": rs.UserSchema,
        "TokenCreate": rq.TokenCreateSchema,
        "Token": rs.TokenSchema,
        "NewToken": rs.NewTokenSchema,
        "AuditPage": rs.AuditPageSchema,
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
        operations={"get": {"summary": "Facts gathered by Bolt", "parameters": [_path_name("name")], "responses": {**_ok("facts"), **_errors(404, 429, 502, 503)}}},
    )
    spec.path("/api/tasks", operations={"get": {"summary": "Tasks of the Bolt project", "responses": {**_ok("tasks"), **_errors(502, 503)}}})
    spec.path(
        "/api/tasks/{name}",
        operations={"get": {"summary": "One task's metadata", "parameters": [_path_name("name")], "responses": {**_ok("task"), **_errors(404, 502, 503)}}},
    )
    spec.path("/api/plans", operations={"get": {"summary": "Plans of the Bolt project (private ones left out)", "responses": {**_ok("plans"), **_errors(502, 503)}}})
    spec.path(
        "/api/plans/{name}",
        operations={"get": {"summary": "One plan's metadata", "parameters": [_path_name("name")], "responses": {**_ok("plan"), **_errors(404, 502, 503)}}},
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
                "summary": "Events after a seq (polling) or before one (paging back); full=true: all (admin, audited)",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.EventsQueryArgsSchema}],
                "responses": {**_ok("events", {"$ref": "#/components/schemas/EventPage"}), **_errors(400, 403, 404)},
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}/output",
        operations={
            "get": {
                "summary": "Output download: each target's result text once it has one, else its streamed output",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.OutputQueryArgsSchema}],
                "responses": {
                    "200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    **_errors(400, 403, 404),
                },
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}/search",
        operations={
            "get": {
                "summary": "Lines of one pane (a target's output, or Bolt's log) holding a text, numbered as the web UI numbers them",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.PaneSearchArgsSchema}],
                "responses": {**_ok("matching lines", {"$ref": "#/components/schemas/PaneSearch"}), **_errors(400, 404)},
            }
        },
    )
    spec.path(
        "/api/executions/{execution_id}/lines",
        operations={
            "get": {
                "summary": "A range of one pane's lines, raw, numbered as the web UI numbers them",
                "parameters": [_execution_id(), {"in": "query", "schema": rq.PaneLinesArgsSchema}],
                "responses": {**_ok("lines", {"$ref": "#/components/schemas/PaneLines"}), **_errors(400, 404)},
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
                "responses": {"200": {"description": "event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}, "204": {"description": "resumed at or past `complete`: nothing more will come"}, **_errors(400, 404)},
            }
        },
    )
    spec.path("/api/streaming/stats", operations={"get": {"summary": "Streaming counters", "responses": _ok("stats")}})
    spec.path("/api/openapi.json", operations={"get": {"summary": "This document", "responses": _ok("OpenAPI document")}})
    _access_paths(spec)
    return _secured(spec.to_dict())


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(name: str) -> dict:
    return {"required": True, **_json(_ref(name))}


def _access_paths(spec: APISpec) -> None:
    """Login, users, tokens, audit and policy."""
    no_content = {"204": {"description": "done"}}
    items = lambda name: {"type": "object", "properties": {"items": {"type": "array", "items": _ref(name)}}}  # noqa: E731
    spec.path(
        "/api/auth/login",
        operations={
            "post": {
                "summary": "Log in: sets the session cookie and answers the CSRF token",
                "security": [],
                "requestBody": _body("Login"),
                "responses": {**_ok("logged in", _ref("Session")), **_errors(400, 401, 429)},
            }
        },
    )
    spec.path("/api/auth/logout", operations={"post": {"summary": "Log out (ends the session)", "responses": no_content}})
    spec.path("/api/auth/me", operations={"get": {"summary": "Who is logged in", "responses": _ok("session", _ref("Session"))}})
    spec.path(
        "/api/users",
        operations={
            "get": {"summary": "Users (admin)", "responses": _ok("users", items("User"))},
            "post": {
                "summary": "Create a user (admin)",
                "requestBody": _body("UserCreate"),
                "responses": {**_ok("created", _ref("User"), 201), **_errors(400, 409)},
            },
        },
    )
    name = [_path_name("name")]
    spec.path(
        "/api/users/{name}",
        operations={
            "patch": {
                "summary": "Change a user's role or password (admin); ends their sessions",
                "parameters": name,
                "requestBody": _body("UserUpdate"),
                "responses": {**_ok("user", _ref("User")), **_errors(400, 404, 409)},
            },
            "delete": {
                "summary": "Delete a user with their tokens and sessions (admin)",
                "parameters": name,
                "responses": {**no_content, **_errors(404, 409)},
            },
        },
    )
    spec.path(
        "/api/tokens",
        operations={
            "get": {
                "summary": "API tokens, never their values (admin)",
                "parameters": [{"in": "query", "schema": rq.TokenQueryArgsSchema}],
                "responses": {**_ok("tokens", items("Token")), **_errors(400)},
            },
            "post": {
                "summary": "Create an API token, valid until revoked or for expiresInSeconds; its value is in this answer only (admin)",
                "requestBody": _body("TokenCreate"),
                "responses": {**_ok("created", _ref("NewToken"), 201), **_errors(400, 404)},
            },
        },
    )
    spec.path(
        "/api/tokens/{token_id}",
        operations={
            "delete": {
                "summary": "Revoke an API token (admin)",
                "parameters": [_path_name("token_id")],
                "responses": {**_ok("revoked", _ref("Token")), **_errors(404)},
            }
        },
    )
    spec.path(
        "/api/audit",
        operations={
            "get": {
                "summary": "The audit log, newest first (admin)",
                "parameters": [{"in": "query", "schema": rq.AuditQueryArgsSchema}],
                "responses": {**_ok("page of audit entries", _ref("AuditPage")), **_errors(400)},
            }
        },
    )
    spec.path("/api/policy", operations={"get": {"summary": "The policy in force and its source (admin)", "responses": _ok("policy")}})


def _secured(document: dict) -> dict:
    """Declare the two ways to authenticate, and the answers every guarded route may give."""
    document["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token from `boltdeck tokens create`; a revoked or expired one answers 401 invalid_token",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "boltdeck_session",
            "description": "from POST /api/auth/login; state changes also need the X-CSRF-Token header",
        },
    }
    document["security"] = [{"bearer": []}, {"session": []}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security") == [] or path == "/api/health":
                operation["security"] = []
            else:
                responses.update({k: v for k, v in _errors(401, 403).items() if k not in responses})
            if "requestBody" in operation:
                responses.setdefault("413", _errors(413)["413"])
            if path.endswith("/stream") or method == "post" and "/executions/" not in path or path.endswith("/rerun"):
                responses.setdefault("429", _errors(429)["429"])
    return document


@bp.get("/openapi.json")
@requires("read")
def openapi_document():
    return build_spec()
