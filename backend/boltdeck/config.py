"""Settings from BOLTDECK_* environment variables and an optional YAML file."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .bundle import DEFAULT_PROJECT_DIR
from .errors import ConfigError


@dataclass(frozen=True)
class Allowed:
    """The values one setting accepts; checked once when the settings are built."""

    least: float | None = None  # inclusive lower bound
    above: float | None = None  # exclusive lower bound, for "more than 0"
    most: float | None = None
    choices: tuple[str, ...] = ()  # compared upper-cased
    non_empty: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, str):
            if self.choices:
                return value.upper() in self.choices
            return bool(value.strip()) or not self.non_empty
        return value == value and not (  # NaN (float("nan") parses) equals nothing, itself included
            (self.least is not None and value < self.least)
            or (self.above is not None and value <= self.above)
            or (self.most is not None and value > self.most)
        )

    def text(self) -> str:
        """The range in words, for error messages and the README."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.non_empty:
            return "not empty"
        if self.above is not None:
            return f"more than {_number(self.above)}, at most {_number(self.most)}"
        if self.least is not None:
            return f"{_number(self.least)} to {_number(self.most)}"
        return "any"


ANY = Allowed()
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and value == int(value) else str(value)


def _setting(default: Any, help: str, allowed: Allowed = ANY) -> Any:
    return field(default=default, metadata={"help": help, "allowed": allowed})


@dataclass(frozen=True)
class Settings:
    """Every setting Boltdeck reads; env var = BOLTDECK_ + the upper-cased field name."""

    config: str = _setting(
        "",
        "YAML file of these settings (lower-case names) and of the access `policy:`; the policy is re-read when the file changes.",
    )
    bolt_bin: str = _setting(
        "bolt", "Path or name (looked up on PATH) of the bolt executable.", Allowed(non_empty=True)
    )
    bolt_project: str = _setting(
        str(DEFAULT_PROJECT_DIR),
        "The Bolt project directory every run uses (--project).",
        Allowed(non_empty=True),
    )
    bolt_env_passthrough: str = _setting(
        "",
        "Comma-separated names of more server environment variables Bolt gets (by default only what it needs).",
    )
    database_url: str = _setting(
        "sqlite:///./var/boltdeck.sqlite3",
        "The store: sqlite:///PATH (default: a file under ./var/) or postgresql://USER:PASSWORD@HOST:PORT/DB (pip install 'boltdeck[postgres]').",
        Allowed(non_empty=True),
    )
    database_busy_seconds: float = _setting(
        10.0,
        "Longest a database statement waits for a lock another process holds; the wait never stalls other requests.",
        Allowed(least=0, most=600),
    )
    broker_url: str = _setting(
        "",
        "Redis URL (redis://, rediss://, unix://) of the broker that carries live events and notices between processes; empty: in-process (one process only).",
    )
    role: str = _setting(
        "all",
        "What a `boltdeck serve` or WSGI process does: `all` (HTTP and runs executions), `web` (HTTP only; runners run them). `boltdeck runner` is always `runner`.",
        Allowed(choices=("ALL", "WEB", "RUNNER")),
    )
    lease_seconds: float = _setting(
        15.0,
        "A worker's lease, renewed every third of it: a worker silent for this long counts as dead, and any process records its executions as interrupted.",
        Allowed(least=1, most=3600),
    )
    max_concurrent_executions: int = _setting(
        8, "Executions running at once across all processes; more wait as `queued` (FIFO).", Allowed(least=1, most=1000)
    )
    max_active_executions_per_user: int = _setting(
        20,
        "Executions one user may have queued or running at once (more: 429 `too_many_executions`).",
        Allowed(least=1, most=100000),
    )
    confirm_above_targets: int = _setting(
        10,
        "The web UI asks for confirmation, naming the targets, before a run on more targets than this (and before package changes and real Puppet runs).",
        Allowed(least=1, most=10**6),
    )
    ui_kept_lines: int = _setting(
        200000,
        "Lines of one output pane the web UI keeps in memory for its search (older ones it searches and fetches on the server).",
        Allowed(least=1000, most=10**7),
    )
    execution_timeout_seconds: float = _setting(
        3600.0,
        "Default and maximum time an execution may run before it is killed (`timed_out`).",
        Allowed(above=0, most=30 * 86400),
    )
    kill_grace_seconds: float = _setting(
        5.0, "Time between SIGTERM and SIGKILL when stopping Bolt's process group.", Allowed(least=0, most=600)
    )
    inventory_cache_seconds: float = _setting(
        30.0, "How long `bolt inventory show` and `task show` answers are reused.", Allowed(least=0, most=86400)
    )
    facts_cache_seconds: float = _setting(300.0, "How long gathered facts are reused.", Allowed(least=0, most=86400))
    bolt_failure_cache_seconds: float = _setting(
        10.0,
        "How long a failed inventory, task or facts query to bolt is answered from memory instead of asking again.",
        Allowed(least=0, most=3600),
    )
    max_bolt_metadata_calls: int = _setting(
        4,
        "Bolt processes answering inventory, task and facts queries at once; more wait up to 15 s, then 503.",
        Allowed(least=1, most=1000),
    )
    facts_per_user_per_minute: int = _setting(
        10,
        "Facts gatherings (not cached answers) one user may start per minute (more: 429).",
        Allowed(least=1, most=10**6),
    )
    sse_heartbeat_seconds: float = _setting(
        15.0, "Interval of `: ping` comments on idle SSE streams.", Allowed(least=0.1, most=3600)
    )
    sse_retry_ms: int = _setting(3000, "The `retry:` hint sent to SSE clients.", Allowed(least=100, most=3600 * 1000))
    progress_events_per_second: float = _setting(
        4.0,
        "Most progress (and Puppet resources) events per target per second; meanwhile the latest state waits, and the last state before each result is exact.",
        Allowed(least=0.1, most=100),
    )
    stream_coalesce_ms: float = _setting(
        5.0,
        "Under sustained output, at most one output event per this many ms once 8 have gone out back to back (0: no such pace); otherwise output goes out as soon as the previous event is out.",
        Allowed(least=0, most=1000),
    )
    max_output_bytes: int = _setting(
        10 * 1024 * 1024,
        "Output (stdout, stderr, log) logged and streamed per execution.",
        Allowed(least=1, most=10 * 1024**3),
    )
    subscriber_queue_size: int = _setting(
        1000, "Events buffered per live subscriber before it re-reads from the store.", Allowed(least=1, most=10**6)
    )
    host: str = _setting("127.0.0.1", "Address `boltdeck serve` listens on.", Allowed(non_empty=True))
    port: int = _setting(8000, "Port `boltdeck serve` listens on (0: any free port).", Allowed(least=0, most=65535))
    request_read_timeout_seconds: float = _setting(
        30.0,
        "Time to send a whole request from its first byte, and to start one on a new connection; slower: 408, closed.",
        Allowed(above=0, most=3600),
    )
    keepalive_timeout_seconds: float = _setting(
        75.0, "Time a kept-alive connection may idle between requests before it is closed.", Allowed(above=0, most=3600)
    )
    max_connections: int = _setting(
        10000,
        "Connections served at once, streams included; more wait to be accepted (lowered to fit the open-file limit).",
        Allowed(least=1, most=10**6),
    )
    log_level: str = _setting("INFO", "Python log level of the server.", Allowed(choices=LOG_LEVELS))
    session_hours: float = _setting(12.0, "Lifetime of a browser login session.", Allowed(above=0, most=8760))
    login_max_failures_per_account: int = _setting(
        5,
        "Failed logins for one account within the window before its logins are refused (429).",
        Allowed(least=1, most=10**6),
    )
    login_max_failures_per_client: int = _setting(
        20,
        "Failed logins from one client address within the window before its logins are refused (429).",
        Allowed(least=1, most=10**6),
    )
    login_window_seconds: float = _setting(
        300.0, "Sliding window of the login failure counts.", Allowed(above=0, most=86400)
    )
    max_request_bytes: int = _setting(
        1024 * 1024, "Largest request body accepted (larger: 413).", Allowed(least=1024, most=1024**3)
    )
    max_streams_per_user: int = _setting(
        32,
        "Streams (SSE, WebSocket, streamed run requests) one user may hold open at once (more: 429).",
        Allowed(least=1, most=100000),
    )
    credential_recheck_seconds: float = _setting(
        30.0,
        "How often an open SSE stream or WebSocket checks its token or session again; it is closed once that is revoked, ended, or its user deleted or no longer allowed to read.",
        Allowed(least=0.1, most=60),
    )
    ws_max_message_bytes: int = _setting(
        64 * 1024,
        "Largest WebSocket message accepted; a larger one closes the socket (1009) before it is buffered.",
        Allowed(least=1024, most=64 * 1024**2),
    )
    max_json_depth: int = _setting(
        32,
        "Deepest nesting of arrays and objects accepted in a JSON request body or WebSocket message (deeper: 400 `invalid_json`).",
        Allowed(least=2, most=500),
    )
    proxy_hops: int = _setting(
        0,
        "Reverse proxies in front of Boltdeck whose X-Forwarded-For/-Proto/-Host are trusted (0: none).",
        Allowed(least=0, most=10),
    )

    def __post_init__(self) -> None:
        """Refuse a value outside its setting's range, naming the variable and the range."""
        for f in dataclasses.fields(self):
            allowed, value = f.metadata["allowed"], getattr(self, f.name)
            if not allowed.accepts(value):
                raise ConfigError(f"BOLTDECK_{f.name.upper()} must be {allowed.text()}, got {value!r}")

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> "Settings":
        """Build settings: defaults < YAML file (BOLTDECK_CONFIG) < environment < overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        config_file = (overrides or {}).get("config") or environ.get("BOLTDECK_CONFIG")
        if config_file:
            values.update(_read_yaml(config_file))
        for f in dataclasses.fields(cls):
            env_name = "BOLTDECK_" + f.name.upper()
            if env_name in environ:
                values[f.name] = environ[env_name]
        values.update(overrides or {})
        if "database_url" not in values:  # the working directory of this load, not of the first import
            values["database_url"] = "sqlite:///" + str(Path.cwd() / "var" / "boltdeck.sqlite3")
        return cls(**{name: _coerce(cls, name, value) for name, value in values.items()})

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """List (env var, default, help) for documentation."""
        return [("BOLTDECK_" + f.name.upper(), f.default, f.metadata["help"]) for f in dataclasses.fields(cls)]

    @classmethod
    def allowed(cls) -> dict[str, str]:
        """Map each env var to the values it accepts, in words (the README's `allowed` column)."""
        return {"BOLTDECK_" + f.name.upper(): f.metadata["allowed"].text() for f in dataclasses.fields(cls)}


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read BOLTDECK_CONFIG file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"BOLTDECK_CONFIG file {path} must hold a mapping of settings")
    data = {k: v for k, v in data.items() if k != "policy"}  # read by auth.policy.PolicySource
    known = {f.name for f in dataclasses.fields(Settings)} - {"config"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(unknown)}")
    return data


def _coerce(cls: type, name: str, value: Any) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if name not in fields:
        raise ConfigError(f"unknown setting {name!r}")
    kind = type(fields[name].default)
    try:
        coerced = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"BOLTDECK_{name.upper()} must be a {kind.__name__}, got {value!r}") from exc
    return coerced
