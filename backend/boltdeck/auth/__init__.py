"""Access control: roles, passwords, tokens and sessions, the command policy, login throttling, audit."""

from .accounts import AccountService, Principal
from .audit import AuditLog
from .policy import PERMISSIONS, ROLES, Policy, PolicySource, role_allows
from .throttle import LoginThrottle

__all__ = [
    "AccountService",
    "AuditLog",
    "LoginThrottle",
    "PERMISSIONS",
    "Policy",
    "PolicySource",
    "Principal",
    "ROLES",
    "role_allows",
]
