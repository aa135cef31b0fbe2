"""Who is asking, and may they: the guard every /api request passes, and login/logout/me.

Every view under /api declares a permission with @requires ("public", "read", "run" or
"admin"); a view that declares none is refused (fail closed). Credentials come from an
`Authorization: Bearer` API token or the session cookie; never from the URL. Cookie-authenticated
requests that change state must carry the session's CSRF token in `X-CSRF-Token`.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Callable

from flask import Blueprint, current_app, g, jsonify, request

from ..auth import AccountService, Principal, role_allows
from ..errors import AuthenticationError, ForbiddenError, RateLimitedError
from ..extensions import services
from ..schemas import LoginSchema, SessionSchema, load

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
log = logging.getLogger(__name__)

SESSION_COOKIE = "boltdeck_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDITED_DENIALS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def requires(permission: str) -> Callable:
    """Declare what a view needs: "public", "read" (any role), "run" (operator, admin) or "admin"."""

    def mark(view: Callable) -> Callable:
        view.permission = permission
        return view

    return mark


def principal() -> Principal | None:
    return g.get("principal")


def user_name() -> str | None:
    found = principal()
    return found.name if found else None


def client_address() -> str:
    return request.remote_addr or "unknown"


def audit(action: str, **fields) -> None:
    """Record an audit entry for the current request's user and client address."""
    fields.setdefault("user", user_name())
    services().audit.record(action, client=client_address(), **fields)


def guard() -> None:
    """before_request: authenticate, check CSRF and origin, then the view's permission."""
    if not request.path.startswith("/api/"):
        return  # the UI's page and static files: the page itself asks for a login
    g.principal = found = _authenticate()
    _check_origin(found)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    permission = getattr(view, "permission", None)
    if permission == "public":
        return
    if found is None:
        raise AuthenticationError(
            "authentication required: log in, or send an API token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="boltdeck"'},
        )
    if view is None:
        return  # routing will answer 404/405, now that we know who is asking
    if permission is None:
        log.error("view %s declares no permission; refusing it", request.endpoint)
        raise ForbiddenError("this route declares no permission", code="no_permission_declared")
    require_permission(
        found, permission, audited=request.method in AUDITED_DENIALS, method=request.method, path=request.path
    )


def require_permission(found: Principal, permission: str, *, audited: bool, **detail) -> None:
    """Raise 403 unless `found`'s role has `permission`; `audited` refusals go to the audit log."""
    if role_allows(found.role, permission):
        return
    if audited:
        audit("forbidden", user=found.name, outcome="denied", role=found.role, **detail)
    raise ForbiddenError(
        f"role {found.role} may not do this (it needs the {permission!r} permission)",
        details={"role": [found.role], "permission": [permission]},
    )


def _authenticate() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(
                "the Authorization header must be 'Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer realm="boltdeck", error="invalid_request"'},
            )
        g.credential = ("token", secret.strip())
        found = resolve(g.credential)
        if found is None:  # a wrong token is an error even on public routes: the client must know
            raise AuthenticationError(
                services().accounts.token_refusal(g.credential[1]),  # says "expired" when it did
                code="invalid_token",
                headers={"WWW-Authenticate": 'Bearer realm="boltdeck", error="invalid_token"'},
            )
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    g.credential = ("session", cookie) if cookie else None
    return resolve(g.credential)


def credential() -> tuple[str, str] | None:
    """What the current request authenticated with, to check again later (a long-lived WebSocket)."""
    return g.get("credential")


def resolve(found_credential: tuple[str, str] | None, accounts: AccountService | None = None) -> Principal | None:
    """Who a credential stands for now: None once a token is revoked, a session ended or its user deleted."""
    if found_credential is None:
        return None
    kind, secret = found_credential
    accounts = accounts or services().accounts
    return accounts.principal_from_token(secret) if kind == "token" else accounts.principal_from_session(secret)


class CredentialCheck:
    """Check a long-lived connection's credential again: on demand, or when `interval` has passed.

    A stream outlives the request that authenticated it; without this an open WebSocket or
    SSE stream kept reading after its token was revoked or its user deleted (issue 11). A
    check is one small read of the store; `accounts` is passed in because a stream's body
    runs after the request's context is gone.
    """

    def __init__(self, found_credential: tuple[str, str] | None, accounts: AccountService, interval: float):
        self.credential = found_credential
        self.accounts = accounts
        self.interval = interval
        self.due = time.monotonic() + interval

    def seconds_left(self) -> float:
        return max(0.0, self.due - time.monotonic())

    def check(self) -> Principal:
        """Who the credential stands for now; AuthenticationError or ForbiddenError once it may not read."""
        who = resolve(self.credential, self.accounts)
        if who is None:
            raise AuthenticationError("your session ended, your token was revoked or expired, or your user was deleted")
        require_permission(who, "read", audited=False)
        self.due = time.monotonic() + self.interval
        return who

    def check_if_due(self) -> None:
        if time.monotonic() >= self.due:
            self.check()


def _check_origin(found: Principal | None) -> None:
    """Refuse cross-site state changes: a foreign Origin, or a cookie without the CSRF token.

    WebSocket handshakes are GETs but act with the cookie too, so their Origin is checked.
    """
    is_websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    if request.method in SAFE_METHODS and not is_websocket:
        return
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise ForbiddenError(
            f"cross-origin request from {origin} refused", code="cross_origin", details={"Origin": [origin]}
        )
    if found is None or found.via != "session" or is_websocket:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not (sent and hmac.compare_digest(sent, found.csrf_token)):
        raise ForbiddenError(
            f"missing or wrong {CSRF_HEADER} header (cookie-authenticated requests that change state need it)",
            code="csrf_failed",
            details={CSRF_HEADER: ["missing or wrong"]},
        )


def session_body(found: Principal) -> dict:
    policy = services().policy.current()
    return SessionSchema().dump(
        {
            "name": found.name,
            "role": found.role,
            "via": found.via,
            "csrfToken": found.csrf_token,
            "canRun": role_allows(found.role, "run"),
            "canAdmin": role_allows(found.role, "admin"),
            "expertMode": found.role in policy.expert_mode_roles,
            "confirmAboveTargets": services().settings.confirm_above_targets,
            "keptLines": services().settings.ui_kept_lines,
        }
    )


@bp.post("/login")
@requires("public")
def login():
    body = load(LoginSchema(), request.get_json(silent=True))
    found = services()
    name, client = body["username"], client_address()
    try:
        found.login_throttle.check(name, client)
    except RateLimitedError:
        audit("login_failed", user=name, outcome="denied", reason="rate_limited")
        raise
    user = found.accounts.verify(name, body["password"])
    if user is None:
        found.login_throttle.failed(name, client)
        audit("login_failed", user=name, outcome="failed", reason="invalid_credentials")
        raise AuthenticationError("wrong user name or password", code="invalid_credentials")
    found.login_throttle.succeeded(name)
    cookie, csrf, expires = found.accounts.open_session(user["name"])
    audit("login", user=user["name"], via="password")
    response = jsonify(session_body(Principal(user["name"], user["role"], "session", csrf_token=csrf)))
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        expires=expires,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
    )
    return response


@bp.post("/logout")
@requires("read")
def logout():
    cookie = request.cookies.get(SESSION_COOKIE)
    if principal().via == "session" and cookie:
        services().accounts.close_session(cookie)
    audit("logout", via=principal().via)
    response = current_app.response_class(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@bp.get("/me")
@requires("read")
def me():
    return session_body(principal())
