"""Progress per target in the terminal without expert mode: phases and Puppet counts from a live server."""

from __future__ import annotations

import sys

from .conftest import boltdeck
from .terminal import run_on_terminal

# apt's fancy progress (a repeat, then a step), then Puppet resource lines, each past the server's rate limit.
MARKERS = (
    "Progress: [ 20%]",
    "Progress: [ 20%]",
    "Progress: [ 60%]",
    "Notice: /Stage[main]/Main/File[/tmp/x]/ensure: created",
    "Error: /Stage[main]/Main/Exec[broken]/returns: change from notrun to 0 failed",
    "Notice: Applied catalog in 0.02 seconds",
)


def _printing(pause: float) -> str:
    return "; ".join(f"echo '{line}'; sleep {pause}" for line in MARKERS)


def test_cli_progress_off_a_terminal_is_one_line_per_change_on_stderr(cli_env):
    done = boltdeck(cli_env, "run", "command", _printing(0.4), "-t", "localhost", "--no-color")
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("[localhost] ")]
    assert progress[:2] == ["[localhost] apt: installing 20%", "[localhost] apt: installing 60%"]
    assert "[localhost] puppet resources: changed 1, failed 0, noop 0, skipped 0" in progress
    assert "[localhost] puppet resources: changed 1, failed 1, noop 0, skipped 0" in progress
    assert len(progress) == len(set(progress)), "a line per change, none repeated"
    assert "changed 1, failed 1, noop 0, skipped 0 (applied in 0.02 s)" in done.stdout, "the summary's resources"
    assert "[localhost] out: Progress: [ 20%]" in done.stdout, "the output itself comes with the result"


def test_cli_progress_on_a_terminal_updates_each_target_in_place_while_it_runs(cli_env):
    screen, code = run_on_terminal(
        [sys.executable, "-m", "boltdeck", "run", "command", _printing(0.6), "-t", "localhost,local2"], cli_env
    )
    assert code == 0, screen
    live, summary = screen.split("out: Progress: [ 20%]", 1)  # the outputs and table come once each ended
    assert "apt: installing 60%" in live and "█" * 12 in live, "the phase and the bar, drawn before the end"
    assert "changed 1, failed 1, noop 0, skipped 0" in live
    assert "local2" in live and "\x1b[2K" in live, "one row per target, redrawn in place (erase line)"
    assert "success" in summary
