"""Database access: the only layer that knows SQL (SQLite by default, PostgreSQL-ready)."""

from .store import ExecutionStore, ExecutionFilter

__all__ = ["ExecutionStore", "ExecutionFilter"]
