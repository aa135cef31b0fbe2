"""deploy/systemd: systemd's own checks of the shipped units, and their stop timing against Boltdeck's.

systemd cannot run here, so the units are checked offline: `systemd-analyze verify` (every key
known and well-formed, every command present once the install prefix points at stand-ins) and
`systemd-analyze security` (how much of the system the service could reach).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from boltdeck.config import Settings
from boltdeck.server import SHUTDOWN_GRACE_SECONDS

from .stack import DEPLOY, GUNICORN_CONF

UNITS = {path.name: path for path in sorted((DEPLOY / "systemd").glob("*.service"))}
INSTALL_PREFIX = "/opt/boltdeck"
MOST_EXPOSURE = 2.0  # systemd's scale: 0 (locked down) to 10 (unprotected); 1.7 as shipped


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze not found: apt-get install systemd")
    return found


def directives(text: str) -> dict[str, list[str]]:
    """Each key's values in the order given (sections aside: the keys checked here are unique to [Service])."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """Unknown or misspelt keys and bad values are only warnings to systemd: any output fails here."""
    analyze = systemd_analyze()
    prefix = tmp_path / "opt" / "boltdeck"
    copies = []
    for name, path in UNITS.items():
        text = path.read_text()
        for command in re.findall(rf"^Exec\w+=[-@:+!]*({re.escape(INSTALL_PREFIX)}/\S+)", text, re.MULTILINE):
            stand_in = prefix / command.removeprefix(INSTALL_PREFIX + "/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.write_text("#!/bin/sh\n")
            stand_in.chmod(0o755)
        copies.append(tmp_path / name)
        copies[-1].write_text(text.replace(INSTALL_PREFIX, str(prefix)))
    done = subprocess.run([analyze, "verify", *map(str, copies)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    assert sorted(UNITS) == ["boltdeck-runner.service", "boltdeck-web.service"]


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_unit_exposure_is_low(name):
    analyze = systemd_analyze()
    command = [analyze, "security", "--offline=true", "--no-pager", str(UNITS[name])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
    assert score, done.stdout + done.stderr
    assert float(score.group(1)) <= MOST_EXPOSURE, done.stdout


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_unit_runs_as_boltdeck_with_the_shared_settings(name):
    found = directives(UNITS[name].read_text())
    assert found["User"] == found["Group"] == ["boltdeck"]
    assert found["EnvironmentFile"] == ["/etc/boltdeck/env"]
    assert found["ProtectSystem"] == ["strict"] and found["StateDirectory"] == ["boltdeck"]
    assert found["WorkingDirectory"] == ["/var/lib/boltdeck"]  # the data directory: the only one writable


def test_systemd_runner_stop_leaves_bolt_to_boltdeck():
    """systemd signals the runner alone (KillMode=mixed), and kills what is left only after the
    runner had time to stop Bolt (SIGTERM, SIGKILL after the kill grace) and record the runs."""
    found = directives(UNITS["boltdeck-runner.service"].read_text())
    assert found["KillMode"] == ["mixed"]
    assert int(found["TimeoutStopSec"][0]) > SHUTDOWN_GRACE_SECONDS + Settings.kill_grace_seconds


def test_systemd_web_stop_outlasts_gunicorn_graceful_timeout(tmp_path):
    """The web unit kills leftovers only after gunicorn's master gave its workers graceful_timeout."""
    found = directives(UNITS["boltdeck-web.service"].read_text())
    printed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF), "--print-config"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    graceful = re.search(r"^graceful_timeout\s+= (\d+)$", printed.stdout, re.MULTILINE)
    assert graceful, printed.stdout + printed.stderr
    assert found["KillMode"] == ["mixed"]
    assert int(found["TimeoutStopSec"][0]) > int(graceful.group(1)) > SHUTDOWN_GRACE_SECONDS
