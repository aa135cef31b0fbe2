"""Settings from BOLTDECK_* environment variables and an optional YAML file."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting Boltdeck reads; env var = BOLTDECK_ + the upper-cased field name."""

    config: str = _setting(
        "",
        "YAML file of these settings (lower-case names) and of the access `policy:`; the policy is re-read when the file changes.",
    )
    bolt_bin: str = _setting("bolt", "Path or name (looked up on PATH) of the bolt executable.")
    bolt_project: str = _setting(
        str(REPO_ROOT / "bolt-project"), "The Bolt project directory every run uses (--project)."
    )
    database_url: str = _setting(
        "sqlite:///" + str(Path.cwd() / "var" / "boltdeck.sqlite3"),
        "SQLAlchemy URL of the store; default a SQLite file under ./var/.",
    )
    max_concurrent_executions: int = _setting(8, "Executions running at once; more wait as `queued` (FIFO).")
    execution_timeout_seconds: float = _setting(
        3600.0, "Default and maximum time an execution may run before it is killed (`timed_out`)."
    )
    kill_grace_seconds: float = _setting(5.0, "Time between SIGTERM and SIGKILL when stopping Bolt's process group.")
    inventory_cache_seconds: float = _setting(30.0, "How long `bolt inventory show` and `task show` answers are reused.")
    facts_cache_seconds: float = _setting(300.0, "How long gathered facts are reused.")
    sse_heartbeat_seconds: float = _setting(15.0, "Interval of `: ping` comments on idle SSE streams.")
    sse_retry_ms: int = _setting(3000, "The `retry:` hint sent to SSE clients.")
    stream_coalesce_ms: float = _setting(
        5.0, "Window after a sent chunk during which further output is merged into one event."
    )
    max_output_bytes: int = _setting(10 * 1024 * 1024, "Output (stdout, stderr, log) logged and streamed per execution.")
    subscriber_queue_size: int = _setting(1000, "Events buffered per live subscriber before it re-reads from the store.")
    host: str = _setting("127.0.0.1", "Address `boltdeck serve` listens on.")
    port: int = _setting(8000, "Port `boltdeck serve` listens on.")
    log_level: str = _setting("INFO", "Python log level of the server.")
    session_hours: float = _setting(12.0, "Lifetime of a browser login session.")
    login_max_failures_per_account: int = _setting(
        5, "Failed logins for one account within the window before its logins are refused (429)."
    )
    login_max_failures_per_client: int = _setting(
        20, "Failed logins from one client address within the window before its logins are refused (429)."
    )
    login_window_seconds: float = _setting(300.0, "Sliding window of the login failure counts.")
    max_request_bytes: int = _setting(1024 * 1024, "Largest request body accepted (larger: 413).")
    max_streams_per_user: int = _setting(
        32, "Streams (SSE, WebSocket, streamed run requests) one user may hold open at once (more: 429)."
    )
    proxy_hops: int = _setting(
        0, "Reverse proxies in front of Boltdeck whose X-Forwarded-For/-Proto/-Host are trusted (0: none)."
    )

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
        return cls(**{name: _coerce(cls, name, value) for name, value in values.items()})

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """List (env var, default, help) for documentation."""
        return [("BOLTDECK_" + f.name.upper(), f.default, f.metadata["help"]) for f in dataclasses.fields(cls)]


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
    if kind in (int, float) and coerced < 0:
        raise ConfigError(f"BOLTDECK_{name.upper()} must not be negative, got {value!r}")
    return coerced
