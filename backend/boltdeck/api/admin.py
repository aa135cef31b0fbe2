"""Admin API: users, API tokens, the audit log and the effective policy."""

from __future__ import annotations

from flask import Blueprint, request

from ..extensions import services
from ..schemas import (
    AuditPageSchema,
    AuditQueryArgsSchema,
    NewTokenSchema,
    TokenCreateSchema,
    TokenQueryArgsSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
    load,
)
from ..storage import AuditFilter
from .auth import audit, requires
from .executions import iso_filter_time, query_args

bp = Blueprint("admin", __name__, url_prefix="/api")
USER = UserSchema()
TOKEN = TokenSchema()


@bp.get("/users")
@requires("admin")
def list_users():
    return {"items": USER.dump(services().accounts.list_users(), many=True)}


@bp.post("/users")
@requires("admin")
def create_user():
    body = load(UserCreateSchema(), request.get_json(silent=True))
    user = services().accounts.create_user(body["name"], body["role"], body["password"])
    audit("user_created", name=user["name"], role=user["role"])
    return USER.dump(user), 201


@bp.patch("/users/<name>")
@requires("admin")
def update_user(name: str):
    body = load(UserUpdateSchema(), request.get_json(silent=True))
    before = services().accounts.require_user(name)
    user = services().accounts.update_user(name, role=body.get("role"), password=body.get("password"))
    audit(
        "user_updated",
        name=name,
        role=user["role"] if user["role"] != before["role"] else None,
        previousRole=before["role"] if user["role"] != before["role"] else None,
        passwordChanged=True if "password" in body else None,
    )
    return USER.dump(user)


@bp.delete("/users/<name>")
@requires("admin")
def delete_user(name: str):
    user = services().accounts.delete_user(name)
    audit("user_deleted", name=name, role=user["role"])
    return "", 204


@bp.get("/tokens")
@requires("admin")
def list_tokens():
    args = load(TokenQueryArgsSchema(), request.args.to_dict())
    return {"items": TOKEN.dump(services().accounts.list_tokens(args.get("user")), many=True)}


@bp.post("/tokens")
@requires("admin")
def create_token():
    body = load(TokenCreateSchema(), request.get_json(silent=True))
    secret, record = services().accounts.create_token(body["user"], body.get("name"), body.get("expiresInSeconds"))
    expires_at = record["expires_at"]
    audit("token_created", tokenId=record["id"], owner=record["user"], name=record["name"], expiresAt=expires_at)
    return NewTokenSchema().dump({**record, "token": secret}), 201


@bp.delete("/tokens/<token_id>")
@requires("admin")
def revoke_token(token_id: str):
    record = services().accounts.revoke_token(token_id)
    audit("token_revoked", tokenId=record["id"], owner=record["user"], name=record["name"])
    return TOKEN.dump(record)


@bp.get("/audit")
@requires("admin")
def list_audit():
    args = load(AuditQueryArgsSchema(), query_args(("action",)))
    query = AuditFilter(
        user=args.get("user"),
        action=tuple(args["action"]),
        outcome=args.get("outcome"),
        execution_id=args.get("executionId"),
        since=iso_filter_time(args.get("since"), "since"),
        until=iso_filter_time(args.get("until"), "until"),
        limit=args["limit"],
        offset=args["offset"],
    )
    rows, total = services().accounts.accounts.list_audit(query)
    return AuditPageSchema().dump({"items": rows, "total": total, "limit": query.limit, "offset": query.offset})


@bp.get("/policy")
@requires("admin")
def show_policy():
    source = services().policy
    policy = source.current()
    return {"source": policy.source, "error": source.error, "policy": policy.document}
