"""Database access: the only layer that knows SQL (SQLite by default, PostgreSQL-ready)."""

from .accounts import AccountStore, AuditFilter
from .store import ExecutionFilter, ExecutionStore

__all__ = ["AccountStore", "AuditFilter", "ExecutionFilter", "ExecutionStore"]
