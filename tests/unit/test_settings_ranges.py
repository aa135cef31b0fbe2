"""Every setting is range-checked at start, naming the variable and its range (issue 10)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from boltdeck.config import ANY, Settings
from boltdeck.errors import ConfigError

from ..conftest import server_env

FIELDS = dataclasses.fields(Settings)
NUMERIC = [f for f in FIELDS if isinstance(f.default, (int, float))]
README = Path(__file__).resolve().parents[2] / "README.md"


def _env(f: dataclasses.Field) -> str:
    return "BOLTDECK_" + f.name.upper()


def test_settings_heartbeat_zero_is_refused():
    """Bug: BOLTDECK_SSE_HEARTBEAT_SECONDS=0 was accepted and sent 52,604 pings per second."""
    with pytest.raises(ConfigError, match=r"BOLTDECK_SSE_HEARTBEAT_SECONDS must be 0\.1 to 3600, got 0\.0"):
        Settings.load(environ={"BOLTDECK_SSE_HEARTBEAT_SECONDS": "0"})


def test_settings_every_number_declares_its_range():
    undeclared = [_env(f) for f in NUMERIC if f.metadata["allowed"] == ANY]
    assert undeclared == []


@pytest.mark.parametrize("f", NUMERIC, ids=_env)
def test_settings_number_bounds_are_enforced(f):
    """Bug: only negative numbers were refused (a 0 s timeout, a 0 queue, port 70000 passed)."""
    allowed = f.metadata["allowed"]
    low = allowed.above if allowed.above is not None else allowed.least
    below = low if allowed.above is not None else low - (1 if isinstance(f.default, int) else 0.01)
    for bad in (below, allowed.most + 1, *(["nan", "inf"] if isinstance(f.default, float) else [])):
        with pytest.raises(ConfigError, match=f"^{_env(f)} must be {re.escape(allowed.text())}, got"):
            Settings.load(environ={_env(f): str(bad)})
    fine = [allowed.most] + ([] if allowed.above is not None else [allowed.least])
    for good in fine:
        assert getattr(Settings.load(environ={_env(f): str(type(f.default)(good))}), f.name) == good


def test_settings_words_are_checked_too():
    with pytest.raises(ConfigError, match="BOLTDECK_LOG_LEVEL must be one of DEBUG, INFO"):
        Settings.load(environ={"BOLTDECK_LOG_LEVEL": "chatty"})
    assert Settings.load(environ={"BOLTDECK_LOG_LEVEL": "debug"}).log_level == "debug"
    for name in ("BOLTDECK_BOLT_BIN", "BOLTDECK_DATABASE_URL", "BOLTDECK_HOST"):
        with pytest.raises(ConfigError, match=f"{name} must be not empty"):
            Settings.load(environ={name: " "})


def test_settings_ranges_apply_to_the_yaml_file_and_overrides(tmp_path):
    path = tmp_path / "boltdeck.yaml"
    path.write_text("subscriber_queue_size: 0\n")
    with pytest.raises(ConfigError, match="BOLTDECK_SUBSCRIBER_QUEUE_SIZE must be 1 to"):
        Settings.load(environ={"BOLTDECK_CONFIG": str(path)})
    with pytest.raises(ConfigError, match="BOLTDECK_PORT must be 0 to 65535"):
        Settings.load(environ={}, overrides={"port": 70000})


def test_settings_readme_table_shows_each_range():
    """The README's `allowed` column is what config.py checks (the table is read, not trusted)."""
    rows = re.findall(r"^\| `(BOLTDECK_\w+)` \| [^|]* \| ([^|]*) \|", README.read_text(), re.MULTILINE)
    assert dict(rows) == {k: v for k, v in Settings.allowed().items()}


def test_serve_refuses_a_bad_setting_with_one_line(tmp_path):
    """`boltdeck serve` with a setting out of range exits 1 naming it, instead of serving with it."""
    env = server_env(tmp_path, sse_heartbeat_seconds=0)
    done = subprocess.run(
        [sys.executable, "-m", "boltdeck", "serve", "--port", "0"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr == "boltdeck: BOLTDECK_SSE_HEARTBEAT_SECONDS must be 0.1 to 3600, got 0.0\n"
