"""AccountService: users and their roles, API tokens, and browser sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, TypeVar

from gevent.threadpool import ThreadPool

from ..errors import ConflictError, NotFoundError, ValidationError
from ..executions.model import iso_utc, utcnow
from ..storage import AccountStore
from .passwords import hash_password, needs_rehash, verify_password
from .policy import ROLES

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "bd_"
TOKEN_TOUCH_SECONDS = 60  # last_used_at is written at most this often per token
MAX_TOKEN_LIFETIME_SECONDS = 10 * 366 * 86400  # an expiry further out is a typo, not a plan
# argon2 costs ~0.3-0.5 s of CPU and 64 MiB per hash or check: on the event loop it froze every
# request meanwhile, and anyone can ask for a login. It runs in worker threads instead (argon2
# releases the GIL); two of them bound the memory a burst of logins takes, the rest wait their
# turn without holding the loop. gevent's hub pool is left to its own work (DNS lookups).
HASHING_THREADS = 2
T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, and how they proved it."""

    name: str
    role: str
    via: str  # "session" or "token"
    csrf_token: str | None = None  # sessions only
    token_id: str | None = None  # tokens only


def digest(secret: str) -> str:
    """Tokens and session ids are random 256-bit values: SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_user_name(name: str, field: str = "name") -> str:
    if not isinstance(name, str) or not USER_NAME.fullmatch(name):
        raise ValidationError(
            f"{field} must be 1-64 letters, digits, '.', '_', '@' or '-' (starting with a letter or digit)",
            details={field: ["is not a valid user name"]},
        )
    return name


def check_role(role: str, field: str = "role") -> str:
    if role not in ROLES:
        raise ValidationError(f"{field} must be one of {', '.join(ROLES)}", details={field: [f"unknown role {role!r}"]})
    return role


def check_password(password: str, field: str = "password") -> str:
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"{field} must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long",
            details={field: [f"must be at least {MIN_PASSWORD_LENGTH} characters"]},
        )
    return password


def check_lifetime(seconds: float, field: str = "expiresInSeconds") -> float:
    """A token's lifetime in seconds, or a 400 naming `field`."""
    if not 1 <= seconds <= MAX_TOKEN_LIFETIME_SECONDS:
        raise ValidationError(
            f"{field} must be 1 second to {MAX_TOKEN_LIFETIME_SECONDS // 86400} days",
            details={field: ["out of range"]},
        )
    return seconds


def _token_shaped(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and len(secret) <= 200


class AccountService:
    def __init__(self, accounts: AccountStore, session_hours: float):
        self.accounts = accounts
        self.session_lifetime = timedelta(hours=session_hours)
        self._token_touched: dict[str, float] = {}
        self._hashing = ThreadPool(HASHING_THREADS, idle_task_timeout=60)  # idle threads end

    def _off_the_loop(self, work: Callable[..., T], *args) -> T:
        """Run password hashing in a worker thread; this greenlet waits, the others go on."""
        return self._hashing.apply(work, args)

    # users ------------------------------------------------------------------------------
    def create_user(self, name: str, role: str, password: str) -> dict:
        check_user_name(name)
        check_role(role)
        check_password(password)
        return self.accounts.create_user(name, role, self._off_the_loop(hash_password, password), utcnow())

    def require_user(self, name: str) -> dict:
        user = self.accounts.get_user(name)
        if user is None:
            raise NotFoundError(f"user {name!r} does not exist", details={"name": name})
        return user

    def list_users(self) -> list[dict]:
        return self.accounts.list_users()

    def update_user(self, name: str, role: str | None = None, password: str | None = None) -> dict:
        user = self.require_user(name)
        changes = {}
        if role is not None and role != user["role"]:
            check_role(role)
            changes["role"] = role
        if password is not None:
            changes["password_hash"] = self._off_the_loop(hash_password, check_password(password))
        if changes:
            with self.accounts.changing_roles():  # two admins demoted at once must not leave none
                if "role" in changes:
                    self._keep_an_admin(self.require_user(name), f"cannot change the role of {name}: it is the last admin")
                self.accounts.update_user(name, utcnow(), **changes)
                self.accounts.delete_sessions_of(name)  # a new role or password starts from a fresh login
        return self.require_user(name)

    def delete_user(self, name: str) -> dict:
        with self.accounts.changing_roles():  # two admins deleted at once must not leave none
            user = self.require_user(name)
            self._keep_an_admin(user, f"cannot delete {name}: it is the last admin")
            self.accounts.delete_user(name)
        return user

    def _keep_an_admin(self, user: dict, message: str) -> None:
        if user["role"] == "admin" and self.accounts.count_role("admin") <= 1:
            raise ConflictError(message, code="last_admin")

    def verify(self, name: str, password: str) -> dict | None:
        """The user if the password is theirs, else None (same cost whether or not the name exists)."""
        stored = self.accounts.password_hash(name) if isinstance(name, str) else None
        if not self._off_the_loop(verify_password, stored, password if isinstance(password, str) else ""):
            return None
        if needs_rehash(stored):  # argon2 parameters were raised since this hash was made
            self.accounts.update_user(name, utcnow(), password_hash=self._off_the_loop(hash_password, password))
        return self.accounts.get_user(name)

    # tokens -----------------------------------------------------------------------------
    def create_token(
        self, user: str, label: str | None, expires_in: float | None = None, field: str = "expiresInSeconds"
    ) -> tuple[str, dict]:
        """A new token for `user`, expiring after `expires_in` s if given: (the secret, shown once; its record)."""
        self.require_user(user)
        label = (label or "").strip() or "api token"
        if len(label) > 128:
            raise ValidationError("name must be at most 128 characters", details={"name": ["too long"]})
        now = datetime.now(timezone.utc)
        expires_at = None if expires_in is None else iso_utc(now + timedelta(seconds=check_lifetime(expires_in, field)))
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = self.accounts.create_token(
            secrets.token_hex(6), user, label, digest(secret), iso_utc(now), expires_at=expires_at
        )
        return secret, record

    def revoke_token(self, token_id: str) -> dict:
        record = self.accounts.get_token(token_id)
        if record is None:
            raise NotFoundError(f"token {token_id!r} does not exist", details={"id": token_id})
        if record["revoked_at"] is None:
            self.accounts.revoke_token(token_id, utcnow())
        return self.accounts.get_token(token_id)

    def list_tokens(self, user: str | None = None) -> list[dict]:
        return self.accounts.list_tokens(user)

    def principal_from_token(self, secret: str) -> Principal | None:
        """Who a token stands for; None if it is unknown, revoked or expired."""
        if not _token_shaped(secret):
            return None
        found = self.accounts.user_of_token(digest(secret), utcnow())
        if found is None:
            return None
        now = time.monotonic()
        if now - self._token_touched.get(found["token_id"], -TOKEN_TOUCH_SECONDS) >= TOKEN_TOUCH_SECONDS:
            self._token_touched[found["token_id"]] = now
            self.accounts.touch_token(found["token_id"], utcnow())
        return Principal(found["name"], found["role"], "token", token_id=found["token_id"])

    def token_refusal(self, secret: str) -> str:
        """Why a token was refused, for its 401: it expired (and when), or it is unknown or revoked."""
        expires_at = self.accounts.expiry_of_token(digest(secret)) if _token_shaped(secret) else None
        if expires_at is not None and expires_at <= utcnow():
            return f"the API token expired at {expires_at}"
        return "the API token is unknown or revoked"

    # sessions ---------------------------------------------------------------------------
    def open_session(self, user: str) -> tuple[str, str, datetime]:
        """A new browser session: (cookie value, CSRF token, expiry)."""
        now = datetime.now(timezone.utc)
        expires = now + self.session_lifetime
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.accounts.delete_sessions_of(user, now=iso_utc(now))  # sweep this user's expired ones
        self.accounts.create_session(digest(cookie), user, csrf, iso_utc(now), iso_utc(expires))
        return cookie, csrf, expires

    def principal_from_session(self, cookie: str) -> Principal | None:
        if len(cookie) > 200:
            return None
        found = self.accounts.user_of_session(digest(cookie), utcnow())
        if found is None:
            return None
        return Principal(found["name"], found["role"], "session", csrf_token=found["csrf_token"])

    def close_session(self, cookie: str) -> None:
        self.accounts.delete_session(digest(cookie))
