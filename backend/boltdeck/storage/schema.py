"""Tables and migrations of Boltdeck's store."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()

executions = Table(
    "executions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("targets", Text, nullable=False),  # JSON list of requested names
    Column("request", Text, nullable=False),  # JSON of the validated run request
    Column("expert_mode", Boolean, nullable=False, default=False),
    Column("command_line", Text),
    Column("parent_id", String(32)),
    Column("rerun_scope", String(8)),
    Column("timeout_seconds", Float, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("started_at", String(32)),
    Column("finished_at", String(32)),
    Column("exit_code", Integer),
    Column("duration_ms", Integer),
    Column("summary", Text),  # JSON
    Column("error", Text),
    Index("ix_executions_created", "created_at"),
    Index("ix_executions_status_created", "status", "created_at"),
    Index("ix_executions_kind_created", "kind", "created_at"),
)

execution_targets = Table(
    "execution_targets",
    metadata,
    Column("execution_id", String(32), nullable=False),
    Column("target", String(255), nullable=False),
    PrimaryKeyConstraint("execution_id", "target"),
    Index("ix_execution_targets_target", "target", "execution_id"),
)

events = Table(
    "events",
    metadata,
    Column("execution_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(16), nullable=False),
    Column("target", String(255)),
    Column("body", Text, nullable=False),  # the event's JSON, exactly as served
    PrimaryKeyConstraint("execution_id", "seq"),
)

results = Table(
    "results",
    metadata,
    Column("execution_id", String(32), nullable=False),
    Column("target", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("exit_code", Integer),
    Column("stdout", Text),
    Column("stderr", Text),
    Column("value", Text),  # JSON
    Column("error", Text),  # JSON {kind, issueCode, message}
    PrimaryKeyConstraint("execution_id", "target"),
)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

# Each migration moves the schema from version N-1 to N. Version 1 is the whole schema above;
# later ones append ALTER/CREATE steps here and never edit earlier ones.
MIGRATIONS: list = []
CURRENT_VERSION = 1 + len(MIGRATIONS)


def migrate(engine: Engine) -> int:
    """Create the schema on an empty database or bring an older one up to date."""
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[schema_version])
        version = conn.execute(select(schema_version.c.version)).scalar()
        if version is None:
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=CURRENT_VERSION))
            return CURRENT_VERSION
        for step in MIGRATIONS[version - 1 :]:
            _apply(conn, step)
        conn.execute(schema_version.update().values(version=CURRENT_VERSION))
    return CURRENT_VERSION


def _apply(conn: Connection, step) -> None:
    step(conn)
