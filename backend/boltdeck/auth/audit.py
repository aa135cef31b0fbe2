"""The audit log: who did what, when, from where. Never a password or a token value."""

from __future__ import annotations

import logging
from typing import Any

from ..executions.model import utcnow
from ..storage import AccountStore

log = logging.getLogger(__name__)

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "run",
    "rerun",
    "cancel",
    "full_log_read",
    "facts",
    "policy_rejected",
    "forbidden",
    "user_created",
    "user_updated",
    "user_deleted",
    "token_created",
    "token_revoked",
)
OUTCOMES = ("ok", "denied", "failed")
SECRET_KEYS = frozenset({"password", "token", "secret"})


class AuditLog:
    def __init__(self, accounts: AccountStore):
        self.accounts = accounts

    def record(
        self,
        action: str,
        *,
        user: str | None,
        client: str | None,
        outcome: str = "ok",
        execution_id: str | None = None,
        **detail: Any,
    ) -> None:
        """Store one entry. `detail` must already have Sensitive task parameters masked."""
        assert action in ACTIONS and outcome in OUTCOMES, (action, outcome)
        clean = {k: v for k, v in detail.items() if k.lower() not in SECRET_KEYS and v is not None}
        self.accounts.add_audit(
            {
                "at": utcnow(),
                "user": user,
                "action": action,
                "outcome": outcome,
                "client": client,
                "execution_id": execution_id,
                "detail": clean,
            }
        )
        log.info("audit: %s %s by %s from %s %s", action, outcome, user, client, execution_id or "")
