"""Response schemas: executions and event pages as the API shows them (camelCase)."""

from __future__ import annotations

from marshmallow import Schema, fields


class ResultSchema(Schema):
    target = fields.String()
    status = fields.String()
    exitCode = fields.Integer(allow_none=True)
    stdout = fields.String(allow_none=True)
    stderr = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True)
    error = fields.Raw(allow_none=True)


class ExecutionSchema(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String()
    targets = fields.List(fields.String())
    request = fields.Raw()
    expertMode = fields.Boolean(attribute="expert_mode")
    commandLine = fields.String(attribute="command_line", allow_none=True)
    parentId = fields.String(attribute="parent_id", allow_none=True)
    rerunScope = fields.String(attribute="rerun_scope", allow_none=True)
    timeoutSeconds = fields.Float(attribute="timeout_seconds")
    createdAt = fields.String(attribute="created_at")
    startedAt = fields.String(attribute="started_at", allow_none=True)
    finishedAt = fields.String(attribute="finished_at", allow_none=True)
    exitCode = fields.Integer(attribute="exit_code", allow_none=True)
    durationMs = fields.Integer(attribute="duration_ms", allow_none=True)
    summary = fields.Raw(allow_none=True)
    queuePosition = fields.Integer(attribute="queue_position", allow_none=True)
    results = fields.List(fields.Nested(ResultSchema))
    links = fields.Raw()


class EventPageSchema(Schema):
    events = fields.Raw()
    nextAfter = fields.Integer()
    complete = fields.Boolean()
