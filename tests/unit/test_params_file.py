"""Task parameters reach Bolt in a private file (`--params @FILE`) that is gone when the run ends."""

from __future__ import annotations

import json
import os
import stat

import gevent
import gevent.event
import pytest

from boltdeck.bolt import argv as bolt_argv
from boltdeck.bolt.params_file import params_file
from boltdeck.executions.runspec import PENDING_PARAMS_FILE, RunSpec, params_handed_over


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_params_file_is_private_exact_json_and_removed():
    params = {"name": "zoë", "n": 3, "ratio": 3.0, "list": [True, None]}
    with params_file(params) as path:
        assert (_mode(path), _mode(os.path.dirname(path))) == (0o600, 0o700)
        with open(path, "rb") as handle:
            raw = handle.read()
        assert raw.isascii() and json.loads(raw) == params and b"3.0" in raw  # a Float stays a Float
    assert not os.path.exists(os.path.dirname(path))


def test_params_file_is_removed_when_the_block_fails():
    with pytest.raises(RuntimeError):
        with params_file({"secret": "x"}) as path:
            raise RuntimeError("bolt could not start")
    assert not os.path.exists(os.path.dirname(path))


def test_params_file_is_removed_when_the_run_greenlet_is_killed():
    """The run greenlet can die inside the block (server shutdown, a crash): the file must still go."""
    entered = gevent.event.AsyncResult()

    def run():
        with params_file({"secret": "x"}) as path:
            entered.set(path)
            gevent.sleep(60)

    runner = gevent.spawn(run)
    path = entered.get(timeout=5)
    assert os.path.exists(path)
    runner.kill(timeout=5)
    assert not os.path.exists(os.path.dirname(path))


def test_params_file_refuses_what_bolt_cannot_parse():
    with pytest.raises(ValueError):
        with params_file({"n": float("nan")}):
            pass


def _plan(params):
    argv = bolt_argv.task_run("bolt", "demo::json", PENDING_PARAMS_FILE, ["localhost"], "/p")
    return RunSpec("task", argv, "", ["localhost"], ["localhost"], {}, params=params)


def test_params_handed_over_names_the_file_only_while_the_block_runs():
    plan = _plan({"name": "x"})
    assert "@" + PENDING_PARAMS_FILE in plan.argv
    with params_handed_over(plan) as running:
        file_arg = running.argv[running.argv.index("--params") + 1]
        with open(file_arg[1:]) as handle:
            assert json.loads(handle.read()) == {"name": "x"}
    assert not os.path.exists(file_arg[1:]) and plan.argv != running.argv


def test_params_display_shows_the_json_with_sensitive_values_redacted():
    argv = bolt_argv.task_run("bolt", "demo::json", "/tmp/x/params.json", ["localhost"], "/p")
    shown = bolt_argv.display(argv, {"name": "x", "secret": "hunter2"}, ["secret"])
    assert "hunter2" not in shown and "@/tmp/x" not in shown
    assert '--params \'{"name": "x", "secret": "Sensitive [value redacted]"}\'' in shown
