"""Response schemas: executions and event pages as the API shows them (camelCase)."""

from __future__ import annotations

from marshmallow import Schema, fields


class ResultSchema(Schema):
    target = fields.String()
    status = fields.String()
    exitCode = fields.Integer(
        allow_none=True, metadata={"description": "the command's own exit code (Puppet: the agent's, 0 1 2 4 6)"}
    )
    stdout = fields.String(allow_none=True)
    stderr = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True)
    error = fields.Raw(allow_none=True)
    changed = fields.Boolean(
        allow_none=True, metadata={"description": "Puppet runs: the agent applied changes (exit 2 or 6); else null"}
    )
    truncated = fields.Boolean(metadata={"description": "stdout or stderr was cut at BOLTDECK_MAX_OUTPUT_BYTES"})
    puppet = fields.Raw(
        allow_none=True,
        metadata={
            "description": "Puppet runs (agent, apply, or a command whose output was Puppet's): "
            "{changed, failed, noop, skipped, applySeconds, resources: [{resource, status, message}], truncated}"
        },
    )


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
    exitCode = fields.Integer(
        attribute="exit_code",
        allow_none=True,
        metadata={"description": "Bolt's exit code; 0 for a Puppet run that ended success (Bolt: 1 for agent exit 2)"},
    )
    durationMs = fields.Integer(attribute="duration_ms", allow_none=True)
    summary = fields.Raw(allow_none=True)
    queuePosition = fields.Integer(attribute="queue_position", allow_none=True)
    createdBy = fields.String(attribute="created_by", allow_none=True)
    results = fields.List(fields.Nested(ResultSchema))
    links = fields.Raw()


class EventPageSchema(Schema):
    events = fields.Raw()
    nextAfter = fields.Integer()
    complete = fields.Boolean()


class PaneLineSchema(Schema):
    n = fields.Integer(metadata={"description": "the line's number in its pane, from 0, as the web UI numbers it"})
    seq = fields.Integer(metadata={"description": "the event the line starts in"})
    idx = fields.Integer(metadata={"description": "lines that started before it in that event"})
    stream = fields.String()
    time = fields.String(metadata={"description": "the timestamp of that event"})
    text = fields.String()


class PaneSearchSchema(Schema):
    matches = fields.List(fields.Nested(PaneLineSchema), metadata={"description": "the last `limit` matching lines; text as shown, at most 1,000 characters"})
    count = fields.Integer(metadata={"description": "matching lines in all (below `before`)"})
    lines = fields.Integer(metadata={"description": "lines in the pane so far"})


class PaneLinesSchema(Schema):
    lines = fields.List(fields.Nested(PaneLineSchema), metadata={"description": "raw text, escape sequences and carriage returns kept"})
    total = fields.Integer(metadata={"description": "lines in the pane so far"})


class UserSchema(Schema):
    name = fields.String()
    role = fields.String()
    createdAt = fields.String(attribute="created_at")
    updatedAt = fields.String(attribute="updated_at")


class TokenSchema(Schema):
    id = fields.String()
    name = fields.String()
    user = fields.String()
    createdAt = fields.String(attribute="created_at")
    lastUsedAt = fields.String(attribute="last_used_at", allow_none=True)
    revokedAt = fields.String(attribute="revoked_at", allow_none=True)
    expiresAt = fields.String(attribute="expires_at", allow_none=True, metadata={"description": "null: never"})


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "the secret; shown once, never again"})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.String()
    user = fields.String(allow_none=True)
    action = fields.String()
    outcome = fields.String()
    client = fields.String(allow_none=True)
    executionId = fields.String(attribute="execution_id", allow_none=True)
    detail = fields.Dict()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class SessionSchema(Schema):
    name = fields.String()
    role = fields.String()
    via = fields.String(metadata={"description": "session or token"})
    csrfToken = fields.String(allow_none=True, metadata={"description": "send as X-CSRF-Token (sessions only)"})
    canRun = fields.Boolean()
    canAdmin = fields.Boolean()
    expertMode = fields.Boolean(metadata={"description": "whether this role may request expert mode"})
    confirmAboveTargets = fields.Integer(
        metadata={"description": "the UI asks for confirmation before a run on more targets than this"}
    )
    keptLines = fields.Integer(metadata={"description": "lines of one output pane the UI keeps in memory for its search"})
