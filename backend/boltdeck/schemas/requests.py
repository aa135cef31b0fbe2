"""Request schemas: the shape of every body and query string Boltdeck accepts."""

from __future__ import annotations

import math
from typing import Any, Mapping

from marshmallow import RAISE, Schema, fields, validate, validates, validates_schema
from marshmallow import ValidationError as SchemaError

from ..auth.accounts import MAX_PASSWORD_LENGTH, MAX_TOKEN_LIFETIME_SECONDS, MIN_PASSWORD_LENGTH, USER_NAME
from ..auth.audit import ACTIONS, OUTCOMES
from ..auth.policy import ROLES
from ..bolt import argv as bolt_argv
from ..errors import ValidationError
from ..executions.model import KINDS, STATUSES
from .json_input import json_type

MAX_COMMAND_BYTES = 64 * 1024
class Whole(validate.Regexp):
    """A Regexp validator that must match the whole value: `^...$` alone lets "name\\n" through."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise SchemaError(self._format_error(value))
        return value


NOT_A_FLAG = validate.Regexp(r"^[^-]", error="must not start with '-' (Bolt would read it as an option)")


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Validate data with a schema; problems become a 400 naming each field."""
    if data is None or (schema.many is False and not isinstance(data, Mapping)):
        got = "no JSON body (Content-Type: application/json)" if data is None else f"a JSON {json_type(data)}"
        details = {"body": ["expected a JSON object"]}
        raise ValidationError(f"the request body must be a JSON object, got {got}", details=details)
    try:
        return schema.load(data)
    except SchemaError as exc:
        messages = _flatten(exc.messages)
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in messages.items())
        raise ValidationError(f"invalid request: {summary}", details=messages) from None


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class RunRequestSchema(_Strict):
    targets = fields.List(
        fields.String(validate=[validate.Length(min=1, max=255), NOT_A_FLAG]),
        required=True,
        validate=validate.Length(min=1, max=1000, error="must name between 1 and 1000 targets or groups"),
    )
    expertMode = fields.Boolean(load_default=False)
    timeoutSeconds = fields.Float(validate=validate.Range(min=1, error="must be at least 1 second"))


class CommandRunSchema(RunRequestSchema):
    command = fields.String(required=True, validate=validate.Regexp(r"\s*\S", error="must not be empty"))
    runAs = fields.String(validate=Whole(bolt_argv.RUN_AS_USER, error="is not a valid user name"))

    @validates("command")
    def _check_command(self, value: str, **_: Any) -> None:
        if "\x00" in value:
            raise SchemaError("must not contain NUL characters")
        if len(value.encode("utf-8")) > MAX_COMMAND_BYTES:
            raise SchemaError(f"must be at most {MAX_COMMAND_BYTES} bytes")
        if value.startswith("-"):
            raise SchemaError("must not start with '-' (Bolt would read it as an option)")
        if value.lstrip().startswith("@"):
            raise SchemaError(
                "must not start with '@' "
                "(Bolt would read '@FILE' as a file on the Boltdeck server and run its contents)"
            )


class _JsonParams:
    """`params`: named values handed to Bolt as JSON (a task's or a plan's parameters)."""

    params = fields.Dict(keys=fields.String(validate=Whole(r"^[a-z][a-z0-9_]*$")), load_default=dict)

    @validates("params")
    def _check_params(self, value: dict[str, Any], **_: Any) -> None:
        """Refuse what Bolt's JSON parser refuses, naming the parameter (Python's parser lets it in)."""
        problems = {name: [problem] for name, item in value.items() if (problem := _not_plain_json(item))}
        if problems:
            raise SchemaError(problems)


class TaskRunSchema(_JsonParams, RunRequestSchema):
    task = fields.String(
        required=True,
        validate=Whole(bolt_argv.TASK_NAME, error="is not a valid task name (like module::task)"),
    )


class PlanRunSchema(_JsonParams, RunRequestSchema):
    """`bolt plan run`: `targets`, when given, fills the plan's TargetSpec parameter (see make_plan)."""

    plan = fields.String(
        required=True,
        validate=Whole(bolt_argv.TASK_NAME, error="is not a valid plan name (like module::plan)"),
    )
    targets = fields.List(
        fields.String(validate=[validate.Length(min=1, max=255), NOT_A_FLAG]),
        validate=validate.Length(min=1, max=1000, error="must name between 1 and 1000 targets or groups"),
    )


def _not_plain_json(value: Any) -> str | None:
    """Why a parsed JSON value cannot be handed to Bolt: NaN/Infinity, or a lone UTF-16 surrogate."""
    pending = [value]  # a loop, not recursion: the body may nest as deep as the JSON parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "must be a finite number (NaN and Infinity are not JSON)"
        if isinstance(item, str) and not _encodable(item):
            return "must be valid Unicode (it holds a lone UTF-16 surrogate)"
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PuppetRunSchema(RunRequestSchema):
    noop = fields.Boolean(load_default=False)
    environment = fields.String(
        validate=Whole(bolt_argv.PUPPET_ENVIRONMENT, error="must be lower-case letters, digits and _")
    )
    tags = fields.List(
        fields.String(validate=Whole(bolt_argv.PUPPET_TAG, error="is not a valid Puppet tag")),
        load_default=list,
        validate=validate.Length(max=100),
    )
    debug = fields.Boolean(load_default=False)


class ApplyRunSchema(RunRequestSchema):
    """`bolt apply`: a manifest file of the Bolt project, or inline Puppet code; exactly one."""

    manifest = fields.String(
        validate=Whole(bolt_argv.MANIFEST_PATH, error="must be a relative path to a .pp file of the Bolt project")
    )
    code = fields.String(validate=validate.Regexp(r"\s*\S", error="must not be empty"))
    noop = fields.Boolean(load_default=False)

    @validates("code")
    def _check_code(self, value: str, **_: Any) -> None:
        if "\x00" in value:
            raise SchemaError("must not contain NUL characters")
        if len(value.encode("utf-8")) > MAX_COMMAND_BYTES:
            raise SchemaError(f"must be at most {MAX_COMMAND_BYTES} bytes")
        if value.lstrip().startswith(("-", "@")):
            raise SchemaError("must not start with '-' or '@' (Bolt would read it as an option or a file)")

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        if ("manifest" in data) == ("code" in data):
            raise SchemaError("give either manifest or code", field_name="manifest")


class PackageRunSchema(RunRequestSchema):
    action = fields.String(required=True, validate=validate.OneOf(["install", "uninstall", "upgrade", "status"]))
    name = fields.String(
        required=True,
        validate=[
            validate.Length(max=255),
            Whole(bolt_argv.PACKAGE_NAME, error="must match [A-Za-z0-9][A-Za-z0-9.+_:-]*"),
        ],
    )
    version = fields.String(
        validate=[
            validate.Length(max=128),
            Whole(r"^[A-Za-z0-9][A-Za-z0-9.+_:~\-]*$", error="is not a valid package version"),
        ]
    )


class RerunSchema(_Strict):
    scope = fields.String(load_default="all", validate=validate.OneOf(["all", "failed"]))


def _csv_of(choices: tuple[str, ...]) -> fields.Field:
    return fields.List(fields.String(validate=validate.OneOf(choices)), load_default=list)


def _no_nul(value: str) -> None:
    """PostgreSQL's text holds no NUL character (a query with one failed with a 500 there)."""
    if "\x00" in value:
        raise SchemaError("must not contain NUL characters")


class ExecutionQueryArgsSchema(_Strict):
    status = _csv_of(STATUSES)
    kind = _csv_of(KINDS)
    target = fields.String(validate=[validate.Length(min=1, max=255), _no_nul])
    createdBy = fields.String(
        validate=[validate.Length(min=1, max=64), _no_nul], metadata={"description": "who started it"}
    )
    q = fields.String(
        validate=[validate.Length(min=1, max=200), _no_nul],
        metadata={"description": "text of the request (command, task name, parameters), case-insensitive"},
    )
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))


FULL_LOG = "admins only, audited: the whole recorded log, also of an execution without expert mode"


class EventsQueryArgsSchema(_Strict):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))
    before = fields.Integer(validate=validate.Range(min=1, max=2**62))
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))
    full = fields.Boolean(load_default=False, metadata={"description": FULL_LOG})


class StreamQueryArgsSchema(_Strict):
    after = fields.Integer(validate=validate.Range(min=0, max=2**62))


class OutputQueryArgsSchema(_Strict):
    format = fields.String(load_default="txt", validate=validate.OneOf(["txt", "ansi"]))
    target = fields.String(validate=validate.Length(min=1, max=255))
    full = fields.Boolean(load_default=False, metadata={"description": FULL_LOG})


class _PaneArgsSchema(_Strict):
    """Which pane of the output viewer: one target's output, or Bolt's log (`log=true`)."""

    target = fields.String(validate=validate.Length(min=1, max=255), metadata={"description": "the target whose output to read"})
    log = fields.Boolean(load_default=False, metadata={"description": "Bolt's log (expert mode) instead of a target's output"})

    @validates_schema
    def _one_pane(self, data: dict[str, Any], **_: Any) -> None:
        if ("target" in data) == data["log"]:
            raise SchemaError("give either target or log=true", field_name="target")


class PaneSearchArgsSchema(_PaneArgsSchema):
    q = fields.String(required=True, validate=[validate.Length(min=1, max=200), _no_nul], metadata={"description": "text to find, case-insensitive"})
    stream = fields.String(load_default="all", validate=validate.OneOf(["all", "stdout", "stderr"]))
    before = fields.Integer(validate=validate.Range(min=0, max=2**62), metadata={"description": "only lines numbered below this"})
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=10000), metadata={"description": "the last this many matches"})


class PaneLinesArgsSchema(_PaneArgsSchema):
    start = fields.Integer(
        data_key="from", load_default=0, validate=validate.Range(min=0, max=2**62), metadata={"description": "number of the first line"}
    )
    count = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))


USER_NAME_FIELD = Whole(USER_NAME, error="must be 1-64 letters, digits, '.', '_', '@' or '-'")
PASSWORD_FIELD = validate.Length(
    min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, error=f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
)


class LoginSchema(_Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class UserCreateSchema(_Strict):
    name = fields.String(required=True, validate=USER_NAME_FIELD)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(required=True, validate=PASSWORD_FIELD)


class UserUpdateSchema(_Strict):
    role = fields.String(validate=validate.OneOf(ROLES))
    password = fields.String(validate=PASSWORD_FIELD)


class TokenCreateSchema(_Strict):
    user = fields.String(required=True, validate=USER_NAME_FIELD)
    name = fields.String(validate=validate.Length(max=128))
    # A duration, not a date: the server's clock alone decides when it ends. Absent: until revoked.
    expiresInSeconds = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_TOKEN_LIFETIME_SECONDS))


class TokenQueryArgsSchema(_Strict):
    user = fields.String(validate=USER_NAME_FIELD)


class AuditQueryArgsSchema(_Strict):
    user = fields.String(validate=validate.Length(min=1, max=64))
    action = _csv_of(ACTIONS)
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    executionId = fields.String(validate=validate.Length(min=1, max=32))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
