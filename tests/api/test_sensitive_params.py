"""Sensitive task parameters and parameter checks, against the Bolt double and the real Bolt (issue 10).

A task parameter is Sensitive when its metadata says `"sensitive": true` (Bolt's documented way)
or its type is `Sensitive[...]`. Its value must reach the task and nothing else: not any
process's argv (Bolt gets `--params @FILE`), not the database, the audit log or any answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import threading
from pathlib import Path

import pytest

from ..conftest import ROOT, TEST_PROJECT, LiveServer
from ..pg import database_text, on_postgres

from .helpers import events_of, processes_of, wait_until

REDACTED = "Sensitive [value redacted]"
DIGEST_METADATA = {
    "description": "Report a SHA-256 and the length of `secret` and `data`, after `hold` seconds",
    "input_method": "stdin",  # environment variables would be argv-sized: Linux caps each at 128 KiB
    "parameters": {
        "secret": {"type": "Optional[String]", "sensitive": True},
        "data": {"type": "Optional[String]"},
        "hold": {"type": "Optional[Float[0,60]]"},
        "legacy": {"type": "Optional[Sensitive[String]]"},
    },
}
DIGEST_TASK = """#!/usr/bin/env python3
import hashlib, json, sys, time
params = json.load(sys.stdin)
time.sleep(params.get("hold") or 0)
print(json.dumps({k: {"sha256": hashlib.sha256(params[k].encode()).hexdigest(), "length": len(params[k])}
                  for k in ("secret", "data") if params.get(k) is not None}))
"""


@pytest.fixture(scope="module")
def digest_project(tmp_path_factory) -> Path:
    """A Bolt project `demo` with the demo tasks and demo::digest, which never prints a value it gets."""
    root = tmp_path_factory.mktemp("project")
    (root / "bolt-project.yaml").write_text(
        "name: demo\nlog:\n  bolt-debug.log: disable\ndisable-warnings:\n  - stream_experimental\n"
    )
    (root / "inventory.yaml").write_text((TEST_PROJECT / "inventory.yaml").read_text())
    tasks = root / "tasks"
    tasks.mkdir()
    for demo in (ROOT / "bolt-project" / "tasks").iterdir():
        (tasks / demo.name).symlink_to(demo)
    (tasks / "digest.json").write_text(json.dumps(DIGEST_METADATA))
    (tasks / "digest.py").write_text(DIGEST_TASK)
    (tasks / "digest.py").chmod(0o755)
    return root


@pytest.fixture(scope="module", params=["double", "real"])
def deck(request, tmp_path_factory, digest_project) -> LiveServer:
    """A server on the digest project, running the Bolt double or the real Bolt."""
    if request.param == "real":
        bolt_bin = request.getfixturevalue("real_bolt")
    else:
        bolt_bin = ROOT / "tests" / "bolt_double" / "bolt"
    live = LiveServer(tmp_path_factory.mktemp(f"deck-{request.param}"), bolt_bin=bolt_bin, bolt_project=digest_project)
    yield live.start()
    live.stop()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _cmdlines() -> dict[int, bytes]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    found[int(entry)] = handle.read()
            except OSError:
                continue
    return found


class ArgvWatch:
    """Read every process's argv over and over while an execution runs, looking for values."""

    def __init__(self, server: LiveServer, execution_id: str, needles: list[str]):
        self.needles = [n.encode() for n in needles]
        self.leaks: list[bytes] = []
        self.bolt_argvs: list[list[str]] = []
        self.params_files: dict[str, int] = {}  # path -> mode, while bolt ran
        self.final: dict = {}
        self._waiter = threading.Thread(target=lambda: self.final.update(server.wait_final(execution_id, 120)))
        self.execution_id = execution_id

    def run(self) -> "ArgvWatch":
        self._waiter.start()
        while self._waiter.is_alive():
            ours = set(processes_of(self.execution_id))
            for pid, cmdline in _cmdlines().items():
                self.leaks += [cmdline for needle in self.needles if needle in cmdline]
                if pid in ours and b"--params" in cmdline:
                    self._note_bolt(cmdline.decode(errors="replace").split("\0"))
        self._waiter.join()
        return self

    def _note_bolt(self, argv: list[str]) -> None:
        self.bolt_argvs.append(argv)
        path = argv[argv.index("--params") + 1].removeprefix("@")
        try:
            self.params_files.setdefault(path, stat.S_IMODE(os.stat(path).st_mode))
        except OSError:
            pass  # bolt may already be past reading it and the run ending


def test_sensitive_params_reach_the_task_and_nothing_else(deck):
    """Regression: a parameter marked `"sensitive": true` was stored, shown by GET /api/executions/<id>
    and audited in clear; every value was in Bolt's argv (readable by any local user), and a value
    over 128 KiB could not be passed at all (Linux caps one argument)."""
    secret = "s3cret-" + secrets.token_hex(12)
    data = secrets.token_hex(100_000)  # 200 KB
    body = {"targets": ["localhost"], "task": "demo::digest", "expertMode": True,
            "params": {"secret": secret, "data": data, "hold": 2.0}}  # fmt: skip
    started = deck.run("/api/tasks/run", body)
    assert started.status_code == 202, started.text
    execution_id = started.json()["executionId"]
    watch = ArgvWatch(deck, execution_id, [secret, data[:64]]).run()

    assert watch.bolt_argvs, "the watch never saw bolt running: it proved nothing"
    assert watch.leaks == []
    assert list(watch.params_files.values()) == [0o600]
    (params_path,) = watch.params_files
    assert not os.path.exists(params_path) and not os.path.exists(os.path.dirname(params_path))

    execution = watch.final
    assert execution["status"] == "success", execution
    value = execution["results"][0]["value"]
    assert value["secret"]["sha256"] == _sha256(secret) and value["data"]["length"] == len(data)
    assert execution["request"]["params"]["secret"] == REDACTED
    assert REDACTED in execution["commandLine"] and data in execution["commandLine"]
    _assert_nowhere(deck, execution_id, secret)
    rerun = deck.api("POST", f"/api/executions/{execution_id}/rerun", json={})
    assert rerun.status_code == 409 and rerun.json()["error"]["code"] == "sensitive_parameters"


def _assert_nowhere(server: LiveServer, execution_id: str, secret: str) -> None:
    """Not in any answer about the execution, its audit entries, or any file the server wrote."""
    answers = {
        "detail": server.api("GET", f"/api/executions/{execution_id}").text,
        "list": server.api("GET", "/api/executions").text,
        "events": json.dumps(events_of(server, execution_id)),
        "full log": server.api("GET", f"/api/executions/{execution_id}/events", params={"full": "true"}).text,
        "output": server.api("GET", f"/api/executions/{execution_id}/output").text,
        "audit": server.api("GET", "/api/audit", params={"executionId": execution_id}).text,
    }
    assert [name for name, text in answers.items() if secret in text] == []
    (run,) = [e for e in json.loads(answers["audit"])["items"] if e["action"] == "run"]
    assert run["detail"]["request"]["params"]["secret"] == REDACTED and REDACTED in run["detail"]["commandLine"]
    files = [p for p in server.tmp_path.rglob("*") if p.is_file()]
    if on_postgres():  # the database is not among the files: every row of every table
        assert secret not in database_text(server.env["BOLTDECK_DATABASE_URL"])
    else:
        assert any(p.name.startswith("boltdeck.sqlite3") for p in files)
    assert [str(p) for p in files if secret.encode() in p.read_bytes()] == []


def test_sensitive_typed_param_is_refused_naming_it_and_why(deck):
    """Regression: `Optional[Sensitive[String]]` took a value through Boltdeck (and the double)
    that the real Bolt always refuses: Bolt checks the plain value against the type first."""
    refused = deck.run("/api/tasks/run", {"targets": ["localhost"], "task": "demo::digest", "params": {"legacy": "pw"}})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert list(error["details"]) == ["params.legacy"]
    assert "Sensitive" in error["message"] and '"sensitive": true' in error["message"] and "pw" not in refused.text
    body = {"targets": ["localhost"], "task": "demo::digest", "params": {"legacy": None}}
    assert deck.run("/api/tasks/run", body, wait=True).json()["status"] == "success"  # null is all Bolt takes


def test_whole_number_for_a_float_param_runs(deck):
    """Regression: `interval: 1` for demo::slow's Float passed Boltdeck's check and failed in Bolt
    (so did leaving it out: its default was the Integer 1)."""
    for params in ({"count": 1, "interval": 1}, {"count": 1}):
        execution = deck.run("/api/tasks/run", {"targets": ["localhost"], "task": "demo::slow", "params": params}, wait=True)
        assert execution.json()["status"] == "success", execution.text
    assert execution.json()["results"][0]["stdout"] == "step 1 of 1\n"
    refused = deck.run("/api/tasks/run", {"targets": ["localhost"], "task": "demo::slow", "params": {"count": 2.0}})
    assert refused.status_code == 400 and "write 2, not 2.0" in refused.json()["error"]["details"]["params.count"][0]


@pytest.mark.parametrize("value", [float("nan"), "\ud800"], ids=["nan", "lone-surrogate"])
def test_params_bolt_cannot_parse_are_refused(server, value):
    """Regression: NaN or a lone surrogate passed the checks and made Bolt fail to parse --params."""
    raw = json.dumps({"targets": ["localhost"], "task": "demo::json", "params": {"name": value}})
    refused = server.api("POST", "/api/tasks/run", data=raw, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    if value == value:  # a lone surrogate: the whole body is refused as not text before any field is read
        assert error["code"] == "invalid_json" and "surrogate" in error["message"], error
    else:  # NaN is valid to Python's JSON but not to Bolt's: the field is named
        assert list(error["details"]) == ["params.name"], error


def test_params_file_is_removed_after_cancel_and_timeout(server):
    cancelled = _start_slow(server, {})
    path = _params_file_of(cancelled)
    assert server.api("POST", f"/api/executions/{cancelled}/cancel").status_code == 200
    assert server.wait_final(cancelled)["status"] == "cancelled" and not os.path.exists(path)
    timed_out = _start_slow(server, {"timeoutSeconds": 1})
    path = _params_file_of(timed_out)
    assert server.wait_final(timed_out)["status"] == "timed_out" and not os.path.exists(path)


def _start_slow(server: LiveServer, extra: dict) -> str:
    body = {"targets": ["localhost"], "task": "demo::slow", "params": {"count": 100, "interval": 0.5}, **extra}
    started = server.run("/api/tasks/run", body)
    assert started.status_code == 202, started.text
    return started.json()["executionId"]


def _params_file_of(execution_id: str) -> str:
    """The params file bolt was given for an execution (waits until bolt runs)."""

    def find():
        cmdlines = _cmdlines()
        for pid in processes_of(execution_id):
            argv = cmdlines.get(pid, b"").decode().split("\0")
            if "--params" in argv:
                return argv[argv.index("--params") + 1].removeprefix("@")
        return None

    path = wait_until(find, timeout=20)
    assert path and os.path.exists(path)
    return path


def test_relative_bolt_project_resolves_against_the_working_directory(tmp_path):
    """Regression: BOLTDECK_BOLT_PROJECT=proj made Bolt look for proj/proj (it runs inside the project)."""
    live = LiveServer(tmp_path, bolt_project="proj")
    (tmp_path / "proj").symlink_to(TEST_PROJECT)
    live.start()
    try:
        body = {"targets": ["localhost"], "task": "demo::json", "params": {"name": "rel"}}
        execution = live.run("/api/tasks/run", body, wait=True)
        assert execution.status_code == 200, execution.text
        assert execution.json()["results"][0]["value"] == {"greeting": "hello rel", "n": 3}
    finally:
        live.stop()
