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
    inspect,
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
    Column("created_by", String(64)),  # the user who started it (schema version 2)
    # Schema version 5: the worker running it (workers.id; NULL while queued and unclaimed),
    # and a stop asked for by any process (`cancelled`), which the owner carries out.
    Column("owner", String(32)),
    Column("stop_requested", String(16)),
    Index("ix_executions_created", "created_at"),
    Index("ix_executions_status_created", "status", "created_at"),
    Index("ix_executions_kind_created", "kind", "created_at"),
    Index("ix_executions_created_by_created", "created_by", "created_at"),  # schema version 7
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
    Column("changed", Boolean),  # Puppet runs: the agent applied changes (schema version 3)
    Column("truncated", Boolean, nullable=False, default=False),  # stdout/stderr cut at the output cap (3)
    Column("puppet_summary", Text),  # JSON: a Puppet run's resource counts, apply time and resources (6)
    PrimaryKeyConstraint("execution_id", "target"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id, never the password
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),  # public id, shown in lists and used to revoke
    Column("user_id", Integer, nullable=False),
    Column("name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the secret
    Column("created_at", String(32), nullable=False),
    Column("last_used_at", String(32)),
    Column("revoked_at", String(32)),
    Column("expires_at", String(32)),  # refused from then on; NULL: never expires (schema version 4)
    Index("ix_api_tokens_user", "user_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie's value
    Column("user_id", Integer, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Index("ix_sessions_user", "user_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("user", String(64)),
    Column("action", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | denied | failed
    Column("client", String(64)),
    Column("execution_id", String(32)),
    Column("detail", Text, nullable=False),  # JSON; never a password or token value
    Index("ix_audit_at", "at"),
    Index("ix_audit_action_at", "action", "at"),
    Index("ix_audit_user_at", "user", "at"),
)

# Schema version 5: the processes that serve and run executions, each with a lease it renews.
workers = Table(
    "workers",
    metadata,
    Column("id", String(32), primary_key=True),  # random per process start
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("boot_id", String(64), nullable=False),  # the host's boot: a pid is only unique within one
    Column("role", String(16), nullable=False),  # all | web | runner
    Column("started_at", String(32), nullable=False),
    Column("lease_until", Float, nullable=False),  # Unix time; past it, the worker counts as dead
    Column("stats", Text),  # JSON: its streaming figures, for the cluster-wide stats
)

# Schema version 5: queued executions waiting for a runner, in submission order. A row goes
# when a runner claims its execution; `pinned_to` names the only worker that may (one holding
# Sensitive task parameters in memory, which are never stored).
execution_queue = Table(
    "execution_queue",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(32), nullable=False, unique=True),
    Column("pinned_to", String(32)),
)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

# Each migration moves the schema from version N-1 to N. Version 1 is the whole schema above;
# later ones append ALTER/CREATE steps here and never edit earlier ones.
def _add_access_control(conn: Connection) -> None:
    """Version 2: users, API tokens, sessions, the audit log, and who started an execution."""
    metadata.create_all(conn, tables=[users, api_tokens, sessions, audit_events])
    conn.exec_driver_sql("ALTER TABLE executions ADD COLUMN created_by VARCHAR(64)")


def _add_result_flags(conn: Connection) -> None:
    """Version 3: per-target `changed` (Puppet) and `truncated`, which the detail used to drop."""
    conn.exec_driver_sql("ALTER TABLE results ADD COLUMN changed BOOLEAN")
    conn.exec_driver_sql("ALTER TABLE results ADD COLUMN truncated BOOLEAN NOT NULL DEFAULT FALSE")


def _add_token_expiry(conn: Connection) -> None:
    """Version 4: an optional expiry per API token; the tokens already issued never expire."""
    # From version 1, step 2 created api_tokens from today's definition, expiry column included.
    if "expires_at" not in {column["name"] for column in inspect(conn).get_columns("api_tokens")}:
        conn.exec_driver_sql("ALTER TABLE api_tokens ADD COLUMN expires_at VARCHAR(32)")


def _add_workers(conn: Connection) -> None:
    """Version 5: workers with leases, execution owners and stop requests, and the shared queue."""
    metadata.create_all(conn, tables=[workers, execution_queue])
    present = {column["name"] for column in inspect(conn).get_columns("executions")}
    for name, kind in (("owner", "VARCHAR(32)"), ("stop_requested", "VARCHAR(16)")):
        if name not in present:  # absent unless the table was created from today's definition
            conn.exec_driver_sql(f"ALTER TABLE executions ADD COLUMN {name} {kind}")


def _add_puppet_summary(conn: Connection) -> None:
    """Version 6: each target's Puppet summary (changed, failed, noop resources, apply time)."""
    if "puppet_summary" not in {column["name"] for column in inspect(conn).get_columns("results")}:
        conn.exec_driver_sql("ALTER TABLE results ADD COLUMN puppet_summary TEXT")


def _index_created_by(conn: Connection) -> None:
    """Version 7: the history's "started by" filter reads an index, not the whole table."""
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_executions_created_by_created ON executions (created_by, created_at)"
    )


MIGRATIONS: list = [
    _add_access_control,
    _add_result_flags,
    _add_token_expiry,
    _add_workers,
    _add_puppet_summary,
    _index_created_by,
]
CURRENT_VERSION = 1 + len(MIGRATIONS)


MIGRATION_LOCK_KEY = 0x6D696772  # "migr"; SQLite's write transactions are serialized anyway


def migrate(engine: Engine) -> int:
    """Create the schema on an empty database or bring an older one up to date."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # processes starting together migrate one after the other
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
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
