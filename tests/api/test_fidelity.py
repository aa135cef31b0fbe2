"""Shown equals happened: downloads, the execution detail and Puppet results say what really ran.

Each scenario runs against the Bolt double; the ones taking the `real_bolt` fixture run
against the real Bolt CLI too (BOLTDECK_TEST_REAL_BOLT=/path/to/bolt; see tests/conftest.py).
"""

from __future__ import annotations

import codecs
import os
import sys
from pathlib import Path

import pytest

from .helpers import events_of, wait_until

# What the command prints: a 10,000-byte line (Bolt's --stream cuts it at its 4,096-byte
# reads), CRLF line ends (Bolt's stream lines drop the \r), and a last line without newline
# (the stream adds one). INVALID adds bytes that are not UTF-8.
PRINTED = b"x" * 10_000 + b"\n" + b"crlf line\r\nsecond\r\n" + b"no final newline"
INVALID = b"bad \xff\xfe bytes \xc3( end\n"


def _printer(tmp_path: Path, data: bytes, name: str = "printer.py") -> str:
    """A command that writes exactly `data` to stdout."""
    payload = tmp_path / (name + ".bin")
    payload.write_bytes(data)
    script = tmp_path / name
    script.write_text(f"import sys\nsys.stdout.buffer.write(open({str(payload)!r}, 'rb').read())\n")
    return f"{sys.executable} {script}"


codecs.register_error("bolt_hex", lambda e: ("".join(f"\\x{b:02X}" for b in e.object[e.start : e.end]), e.end))


def bolt_text(raw: bytes) -> str:
    """Text as Bolt's result carries it: UTF-8, each invalid byte as the four characters \\xNN (upper-case)."""
    return raw.decode("utf-8", errors="bolt_hex")


def _download(server, execution_id: str, query: str = "", **kwargs) -> str:
    answer = server.api("GET", f"/api/executions/{execution_id}/output{query}", **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.content.decode("utf-8")


def _prefixed(target: str, text: str) -> str:
    lines = text.split("\n")
    return "".join(f"[{target}] {line}\n" for line in (lines[:-1] if lines[-1] == "" else lines))


def _streamed_stdout(server, execution_id: str, target: str) -> str:
    events = events_of(server, execution_id)
    return "".join(e["data"]["text"] for e in events if e["type"] == "stdout" and e["target"] == target)


def _check_download_equals_printed(server, tmp_path: Path, data: bytes) -> None:
    command = _printer(tmp_path, data)
    body = {"targets": ["local"], "command": command, "expertMode": True}
    execution = server.run("/api/commands", body, wait=True).json()
    assert execution["status"] == "success", execution
    printed = bolt_text(data)
    assert _streamed_stdout(server, execution["id"], "localhost") != printed  # the live stream differs
    for target in ("localhost", "local2"):
        for fmt in ("txt", "ansi"):
            assert _download(server, execution["id"], f"?format={fmt}&target={target}") == printed
    assert _download(server, execution["id"]) == _prefixed("localhost", printed) + _prefixed("local2", printed)
    assert {r["target"]: r["stdout"] for r in execution["results"]} == {"localhost": printed, "local2": printed}


def test_output_download_equals_what_the_command_printed(server, tmp_path):
    """Bug: the download came from the --stream lines, which split lines over 4,096 bytes, drop
    the \\r of CRLF and add a final newline; the per-target result is now the authority."""
    _check_download_equals_printed(server, tmp_path, PRINTED + b"\n" + INVALID + b"tail")


def test_output_download_equals_what_the_command_printed_with_real_bolt(real_bolt, make_server, tmp_path):
    """Bug: with the real Bolt the download differed from the printed text (long line, CRLF,
    no final newline, invalid UTF-8: shown as \\xNN escapes, Bolt's own convention)."""
    live = make_server(bolt_bin=real_bolt)
    _check_download_equals_printed(live, tmp_path, PRINTED + b"\n" + INVALID + b"tail")


@pytest.mark.parametrize("which", ["double", "real"])
def test_invalid_utf8_reads_the_same_live_and_final(which, request, make_server, tmp_path):
    """Bug: live output spelled an invalid byte `\\xff`, Bolt's result `\\xFF` (the double's U+FFFD):
    one line read two or three ways."""
    live = make_server(**({"bolt_bin": request.getfixturevalue("real_bolt")} if which == "real" else {}))
    body = {"targets": ["localhost"], "command": _printer(tmp_path, INVALID), "expertMode": True}
    execution = live.run("/api/commands", body, wait=True).json()
    (result,) = execution["results"]
    assert _streamed_stdout(live, execution["id"], "localhost") == result["stdout"] == bolt_text(INVALID)


def _cancelled_while_printing(server, expert_mode: bool) -> str:
    """An execution cancelled after its one target printed `started`: it has no result."""
    body = {"targets": ["localhost"], "command": "echo started; sleep 30", "expertMode": expert_mode}
    execution_id = server.run("/api/commands", body).json()["executionId"]
    assert wait_until(lambda: "stdout" in {e["type"] for e in _full_events(server, execution_id)}, timeout=30)
    server.api("POST", f"/api/executions/{execution_id}/cancel")
    assert server.wait_final(execution_id)["results"] == []
    return execution_id


def _full_events(server, execution_id: str) -> list[dict]:
    return server.api("GET", f"/api/executions/{execution_id}/events?full=true&limit=5000").json()["events"]


def test_output_download_of_a_cancelled_target_comes_from_the_stream(server):
    """A target without a result (cancelled while running) still has its streamed output."""
    execution_id = _cancelled_while_printing(server, expert_mode=True)
    assert _download(server, execution_id, "?target=localhost") == "started\n"
    assert _download(server, execution_id) == "[localhost] started\n"


def test_output_download_of_an_unknown_target_is_404(server):
    """Bug: a download for a target the execution never had answered 200 with an empty file."""
    execution = server.run("/api/commands", {"targets": ["local"], "command": "echo hi"}, wait=True).json()
    missing = server.api("GET", f"/api/executions/{execution['id']}/output?target=web99")
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["details"]["target"]
    for known in ("local", "localhost", "local2"):  # as asked, and as the group expanded
        assert server.api("GET", f"/api/executions/{execution['id']}/output?target={known}").status_code == 200


def test_execution_detail_shows_truncated(make_server):
    """Bug: the execution detail dropped a result's `truncated` flag (the result event had it)."""
    live = make_server(max_output_bytes=1000)
    body = {"targets": ["localhost"], "command": "head -c 5000 /dev/zero | tr '\\0' y"}
    execution = live.run("/api/commands", body, wait=True).json()
    (result,) = execution["results"]
    assert result["truncated"] is True and result["stdout"] == "y" * 1000
    small = live.run("/api/commands", {"targets": ["localhost"], "command": "echo small"}, wait=True).json()
    assert small["results"][0]["truncated"] is False and small["results"][0]["changed"] is None


# Puppet agent --detailed-exitcodes -> (result status, changed, execution status, execution exitCode)
PUPPET_CODES = {
    0: ("success", False, "success", 0),
    2: ("success", True, "success", 0),
    4: ("failure", False, "failed", 1),
    6: ("failure", True, "failed", 1),
}


def _fake_puppet(tmp_path: Path) -> tuple[Path, Path]:
    """A `puppet` on PATH that prints its arguments and exits with the code in a file."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    code_file = tmp_path / "puppet-exit-code"
    puppet = bin_dir / "puppet"
    puppet.write_text(f'#!/bin/sh\necho "Notice: agent run; args: $*"\nexit "$(cat {code_file})"\n')
    puppet.chmod(0o755)
    return bin_dir, code_file


def _check_puppet_exit_codes(make_server, tmp_path: Path, **settings) -> None:
    bin_dir, code_file = _fake_puppet(tmp_path)
    live = make_server(extra_env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}, **settings)
    for code, (status, changed, execution_status, execution_code) in PUPPET_CODES.items():
        code_file.write_text(str(code))
        execution = live.run("/api/puppet/runs", {"targets": ["localhost"]}, wait=True).json()
        (result,) = execution["results"]
        seen = (result["status"], result["exitCode"], result["changed"], execution["status"], execution["exitCode"])
        assert seen == (status, code, changed, execution_status, execution_code), (code, execution)
        complete = [e for e in events_of(live, execution["id"]) if e["type"] == "complete"]
        assert complete[0]["data"]["exitCode"] == execution_code


def test_puppet_results_keep_the_agent_exit_code_and_changed(make_server, tmp_path):
    """Bugs: a successful Puppet run with changes showed exit code 1 (Bolt's), agent exit 6
    (changes and failures) got `changed: false`, and the detail dropped `changed`."""
    _check_puppet_exit_codes(make_server, tmp_path)


def test_puppet_results_keep_the_agent_exit_code_and_changed_with_real_bolt(real_bolt, make_server, tmp_path):
    """The same with the real Bolt: its command result carries the agent's own exit code."""
    _check_puppet_exit_codes(make_server, tmp_path, bolt_bin=real_bolt)


def _audit(server, execution_id: str) -> list[dict]:
    return server.api("GET", f"/api/audit?executionId={execution_id}").json()["items"]


def test_admin_reads_the_full_log_of_a_non_expert_execution(server):
    """Bug: no API gave an admin the recorded output of a non-expert execution (the log keeps it
    for exactly that); full=true now does, for admins only, and each use is audited."""
    execution_id = _cancelled_while_printing(server, expert_mode=False)
    base = f"/api/executions/{execution_id}"
    assert "stdout" not in {e["type"] for e in server.api("GET", f"{base}/events").json()["events"]}
    assert _download(server, execution_id, "?target=localhost") == ""
    assert {"command", "stdout"} <= {e["type"] for e in _full_events(server, execution_id)}
    assert _download(server, execution_id, "?target=localhost&full=true") == "started\n"
    reads = [a for a in _audit(server, execution_id) if a["action"] == "full_log_read"]
    assert [a["detail"]["what"] for a in reads].count("output") == 1
    assert {a["user"] for a in reads} == {"admin"} and "events" in {a["detail"]["what"] for a in reads}
    for role in ("operator", "viewer"):
        refused = server.api("GET", f"{base}/events?full=true", headers=server.headers_for(role))
        assert refused.status_code == 403 and "only admins" in refused.json()["error"]["message"]
        assert server.api("GET", f"{base}/output?full=true", headers=server.headers_for(role)).status_code == 403
    denied = [a for a in _audit(server, execution_id) if a["outcome"] == "denied"]
    assert len(denied) == 4
