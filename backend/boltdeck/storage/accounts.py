"""AccountStore: users, API tokens, browser sessions and the audit log."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import and_, delete, func, or_, select, update

from ..errors import ConflictError
from .schema import api_tokens, audit_events, sessions, users
from .store import ExecutionStore

ROLES_LOCK_KEY = 0x726F6C65  # "role": changes that could leave no admin, one at a time

_USER_COLUMNS = (users.c.id, users.c.name, users.c.role, users.c.created_at, users.c.updated_at)
_TOKEN_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.name,
    users.c.name.label("user"),
    api_tokens.c.created_at,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
    api_tokens.c.expires_at,
)


@dataclass(frozen=True)
class AuditFilter:
    """Audit query: every field optional; times are ISO-8601 UTC strings."""

    user: str | None = None
    action: tuple[str, ...] = ()
    outcome: str | None = None
    execution_id: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 100
    offset: int = 0


class AccountStore:
    """Account tables, written through the execution store's one writer connection."""

    def __init__(self, store: ExecutionStore):
        self.store = store
        self.engine = store.engine

    # users ------------------------------------------------------------------------------
    def create_user(self, name: str, role: str, password_hash: str, at: str) -> dict[str, Any]:
        with self.store.write() as conn:  # a name another process takes meanwhile fails as a 409 too
            if conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None:
                raise ConflictError(f"user {name!r} already exists", code="user_exists")
            conn.execute(
                users.insert().values(name=name, role=role, password_hash=password_hash, created_at=at, updated_at=at)
            )
        return self.get_user(name)

    def get_user(self, name: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name)).mappings().first()
        return dict(row) if row else None

    def password_hash(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar()

    def list_users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(*_USER_COLUMNS).order_by(users.c.name)).mappings()]

    @contextmanager
    def changing_roles(self) -> Iterator[None]:
        """A write transaction in which reading the admins and changing them is one step across
        processes: SQLite serializes write transactions, PostgreSQL takes an advisory lock."""
        with self.store.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ROLES_LOCK_KEY})")
            yield

    def count_role(self, role: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(users).where(users.c.role == role)).scalar_one()

    def update_user(self, name: str, at: str, **fields: Any) -> None:
        with self.store.write() as conn:
            conn.execute(update(users).where(users.c.name == name).values(updated_at=at, **fields))

    def delete_user(self, name: str) -> None:
        """Delete a user with their sessions and tokens (executions keep the name as text)."""
        with self.store.write() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if user_id is None:
                return
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
            conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
            conn.execute(delete(users).where(users.c.id == user_id))

    # tokens -----------------------------------------------------------------------------
    def create_token(
        self, token_id: str, user: str, name: str, token_hash: str, at: str, expires_at: str | None = None
    ) -> dict[str, Any]:
        with self.store.write() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.name == user)).scalar_one()
            conn.execute(
                api_tokens.insert().values(
                    id=token_id, user_id=user_id, name=name, token_hash=token_hash, created_at=at, expires_at=expires_at
                )
            )
        return self.get_token(token_id)

    def get_token(self, token_id: str) -> dict[str, Any] | None:
        stmt = select(*_TOKEN_COLUMNS).join(users, users.c.id == api_tokens.c.user_id).where(api_tokens.c.id == token_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    def list_tokens(self, user: str | None = None) -> list[dict[str, Any]]:
        stmt = select(*_TOKEN_COLUMNS).join(users, users.c.id == api_tokens.c.user_id)
        if user is not None:
            stmt = stmt.where(users.c.name == user)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt.order_by(api_tokens.c.created_at, api_tokens.c.id)).mappings()]

    def revoke_token(self, token_id: str, at: str) -> bool:
        """Mark a token revoked; False when no such unrevoked token exists."""
        with self.store.write() as conn:
            done = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return done.rowcount > 0

    def user_of_token(self, token_hash: str, now: str) -> dict[str, Any] | None:
        """The user a live (unrevoked, unexpired) token belongs to, with the token's id."""
        stmt = (
            select(users.c.name, users.c.role, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(
                api_tokens.c.token_hash == token_hash,
                api_tokens.c.revoked_at.is_(None),
                or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
            )
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    def expiry_of_token(self, token_hash: str) -> str | None:
        """When an unrevoked token expires (None: never, or no such token)."""
        stmt = select(api_tokens.c.expires_at).where(
            api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
        )
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def touch_token(self, token_id: str, at: str) -> None:
        with self.store.write() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at))

    # sessions ---------------------------------------------------------------------------
    def create_session(self, id_hash: str, user: str, csrf_token: str, at: str, expires_at: str) -> None:
        with self.store.write() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.name == user)).scalar_one()
            conn.execute(
                sessions.insert().values(
                    id_hash=id_hash, user_id=user_id, csrf_token=csrf_token, created_at=at, expires_at=expires_at
                )
            )

    def user_of_session(self, id_hash: str, now: str) -> dict[str, Any] | None:
        """The user of an unexpired session, with the session's CSRF token."""
        stmt = (
            select(users.c.name, users.c.role, sessions.c.csrf_token)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id_hash == id_hash, sessions.c.expires_at > now)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    def delete_session(self, id_hash: str) -> None:
        with self.store.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))

    def delete_sessions_of(self, user: str, now: str | None = None) -> None:
        """End a user's sessions (all, or only the expired ones when `now` is given)."""
        user_ids = select(users.c.id).where(users.c.name == user).scalar_subquery()
        condition = sessions.c.user_id == user_ids
        if now is not None:
            condition = and_(condition, sessions.c.expires_at <= now)
        with self.store.write() as conn:
            conn.execute(delete(sessions).where(condition))

    # audit ------------------------------------------------------------------------------
    def add_audit(self, row: dict[str, Any]) -> None:
        values = {**row, "detail": json.dumps(row.get("detail") or {}, sort_keys=True)}
        with self.store.write() as conn:
            conn.execute(audit_events.insert().values(**values))

    def list_audit(self, query: AuditFilter) -> tuple[list[dict[str, Any]], int]:
        """One page of audit entries, newest first, and the total that match."""
        conditions = []
        if query.user is not None:
            conditions.append(audit_events.c.user == query.user)
        if query.action:
            conditions.append(audit_events.c.action.in_(list(query.action)))
        if query.outcome is not None:
            conditions.append(audit_events.c.outcome == query.outcome)
        if query.execution_id is not None:
            conditions.append(audit_events.c.execution_id == query.execution_id)
        if query.since:
            conditions.append(audit_events.c.at >= query.since)
        if query.until:
            conditions.append(audit_events.c.at < query.until)
        where = and_(True, *conditions)
        page = (
            select(audit_events)
            .where(where)
            .order_by(audit_events.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        with self.engine.connect() as conn:
            rows = [{**r, "detail": json.loads(r["detail"])} for r in conn.execute(page).mappings()]
            total = conn.execute(select(func.count()).select_from(audit_events).where(where)).scalar_one()
        return rows, total
