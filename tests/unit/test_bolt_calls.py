"""BoltCli's look-ups: one bolt process per question at a time, failures remembered, a global cap (issue 11).

Bolt here is the test double behind a small wrapper that logs when each process starts and
ends and holds it a moment, so overlapping processes can be counted afterwards.
"""

from __future__ import annotations

import stat
from contextlib import nullcontext
from pathlib import Path

import gevent
import pytest

from boltdeck.bolt.cli import BoltCli
from boltdeck.errors import BoltUnavailableError, NotFoundError

from ..conftest import BOLT_DOUBLE, TEST_PROJECT

TASKS = ["demo::hello", "demo::slow", "demo::json", "demo::fail", "facts", "package"]


def _logged_bolt(tmp_path: Path, hold_seconds: float = 0.3) -> tuple[str, Path]:
    """A bolt executable that runs the double, logging `start`/`end` lines with its argv."""
    log = tmp_path / "calls.log"
    script = tmp_path / "bolt"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "start $$ $*" >> "{log}"\n'
        f"sleep {hold_seconds}\n"
        f'"{BOLT_DOUBLE}" "$@"; code=$?\n'
        f'echo "end $$ $*" >> "{log}"\n'
        'exit "$code"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _most_at_once(log: Path) -> int:
    running = most = 0
    for line in _calls(log):
        running += 1 if line.startswith("start ") else -1
        most = max(most, running)
    return most


def _started(log: Path, *words: str) -> int:
    return sum(1 for line in _calls(log) if line.startswith("start ") and " ".join(words) in line)


def test_bolt_calls_one_process_per_question_at_a_time(tmp_path):
    """Bug (issue 11): concurrent requests for the same task each started `bolt task show`."""
    bin_path, log = _logged_bolt(tmp_path)
    bolt = BoltCli(bin=bin_path, project=str(TEST_PROJECT))
    callers = [gevent.spawn(bolt.task, "demo::hello") for _ in range(10)]
    gevent.joinall(callers, raise_error=True)
    assert {caller.value.name for caller in callers} == {"demo::hello"}
    assert _started(log, "task show demo::hello") == 1


def test_bolt_calls_failures_are_shared_and_remembered_briefly(tmp_path):
    """Bug (issue 11): an unknown task was asked of bolt again on every request (failures were not cached)."""
    bin_path, log = _logged_bolt(tmp_path, hold_seconds=0.1)
    bolt = BoltCli(bin=bin_path, project=str(TEST_PROJECT), failure_cache_seconds=1.0)
    callers = [gevent.spawn(bolt.task, "nope::x") for _ in range(5)]
    gevent.joinall(callers)
    assert all(isinstance(caller.exception, NotFoundError) for caller in callers)
    with pytest.raises(NotFoundError, match="does not exist"):
        bolt.task("nope::x")
    assert _started(log, "task show nope::x") == 1
    gevent.sleep(1.1)  # the failure is forgotten: bolt is asked again (the task may exist by now)
    with pytest.raises(NotFoundError):
        bolt.task("nope::x")
    assert _started(log, "task show nope::x") == 2


def test_bolt_calls_capped_across_questions(tmp_path):
    """Bug (issue 11): different look-ups (one per task name) started bolt processes without any cap."""
    bin_path, log = _logged_bolt(tmp_path)
    bolt = BoltCli(bin=bin_path, project=str(TEST_PROJECT), max_calls=2)
    callers = [gevent.spawn(bolt.task, name) for name in TASKS]
    gevent.joinall(callers, raise_error=True)
    assert sorted(caller.value.name for caller in callers) == sorted(TASKS)
    assert _started(log, "task show") == len(TASKS)
    assert _most_at_once(log) == 2


def test_bolt_calls_over_the_cap_wait_bounded_then_busy(tmp_path):
    """A look-up that finds every slot taken for too long answers 503 `busy`, and that is not remembered."""
    bin_path, log = _logged_bolt(tmp_path, hold_seconds=1.0)
    bolt = BoltCli(bin=bin_path, project=str(TEST_PROJECT), max_calls=1, call_wait_seconds=0.2)
    holder = gevent.spawn(bolt.task, "demo::hello")
    gevent.sleep(0.05)  # the holder takes the one slot
    with pytest.raises(BoltUnavailableError) as refused:
        bolt.task("demo::json")
    assert refused.value.code == "busy" and refused.value.status == 503 and refused.value.headers["Retry-After"]
    holder.get()
    assert bolt.task("demo::json").name == "demo::json"  # asked again, not answered from a cached "busy"
    assert _started(log, "task show demo::json") == 1


def test_bolt_calls_facts_gathering_hook_runs_only_for_a_bolt_run(tmp_path):
    """Facts gathered once per cache window: `gathering()` wraps the bolt run, never a cached answer."""
    bin_path, log = _logged_bolt(tmp_path, hold_seconds=0.1)
    bolt = BoltCli(bin=bin_path, project=str(TEST_PROJECT))
    entered: list[str] = []

    def gathering():
        entered.append("gather")
        return nullcontext()

    callers = [gevent.spawn(bolt.facts, "localhost", gathering) for _ in range(5)]
    gevent.joinall(callers, raise_error=True)
    assert all("os" in caller.value for caller in callers)
    assert bolt.facts("localhost", gathering) == callers[0].value
    assert entered == ["gather"] and _started(log, "task run facts") == 1


def test_bolt_calls_expired_failures_are_dropped(tmp_path):
    """Remembered failures must not pile up: one per unknown name a client ever tried would grow without end."""
    bin_path, _ = _logged_bolt(tmp_path, hold_seconds=0)
    bolt = BoltCli(bin=bin_path, project=str(TEST_PROJECT), failure_cache_seconds=0.3)
    for n in range(4):
        with pytest.raises(NotFoundError):
            bolt.task(f"nope::n{n}")
    gevent.sleep(0.4)
    with pytest.raises(NotFoundError):
        bolt.task("nope::last")
    assert list(bolt._cache) == ["task:nope::last"]  # the expired four are gone
