"""The stdout/stderr classifier against every form in tests/bolt_samples."""

from __future__ import annotations

import pytest

from boltdeck.bolt.parser import classify_stdout, clean_stderr, decode, error_of, result_of

from ..conftest import BOLT_SAMPLES as SAMPLES


def _lines(name: str) -> list[str]:
    return (SAMPLES / name).read_text().splitlines()


def _kinds(name: str) -> list[str]:
    return [classify_stdout(line).kind for line in _lines(name)]


def test_parser_command_failure_items():
    lines = [classify_stdout(line) for line in _lines("cmd_fail_json.stdout")]
    items = [line for line in lines if line.kind == "item"]
    assert [line.kind for line in lines] == ["structure", "item", "structure", "item", "structure", "structure"]
    result = result_of(items[0].payload)
    assert result["target"] == "me"
    assert result["status"] == "failure"
    assert (result["exitCode"], result["stdout"], result["stderr"]) == (3, "hi\n", "err\n")
    assert result["error"]["kind"] == "puppetlabs.tasks/command-error"
    assert result["error"]["issueCode"] == "COMMAND_ERROR"


def test_parser_stream_lines_become_output_per_target():
    timed = [line.split(" | ", 1)[1] for line in _lines("cmd_stream_json_timed.txt")]
    parsed = [classify_stdout(line) for line in timed]
    streams = [(p.target, p.stream, p.text) for p in parsed if p.kind == "stream"]
    assert streams[:2] == [("me", "stdout", "out 1\n"), ("me", "stderr", "err 1\n")]
    assert ("127.0.0.1", "stderr", "err 2\n") in streams
    assert [p.kind for p in parsed].count("item") == 2


def test_parser_task_output_json_and_text():
    json_item = [classify_stdout(line) for line in _lines("task_json_json.stdout") if line.startswith("{\"")][0]
    assert result_of(json_item.payload)["value"] == {"greeting": "hello x", "n": 3}
    text_item = [classify_stdout(line) for line in _lines("task_run_json.stdout") if line.startswith("{\"")][0]
    result = result_of(text_item.payload)
    assert result["stdout"].startswith("line 1\nline 2\n")
    assert result["value"] is None


def test_parser_task_failure_exit_code_from_error_details():
    item = [classify_stdout(line) for line in _lines("task_fail_json.stdout") if line.startswith("{\"")][0]
    result = result_of(item.payload)
    assert (result["status"], result["exitCode"], result["stdout"]) == ("failure", 5, "partial out\n")


def test_parser_unreachable_target_is_connect_error():
    items = [classify_stdout(line) for line in _lines("cmd_unreachable_json.stdout")]
    failed = [result_of(i.payload) for i in items if i.kind == "item" and i.payload["status"] == "failure"]
    assert len(failed) == 3
    assert {r["error"]["issueCode"] for r in failed} == {"CONNECT_ERROR"}


@pytest.mark.parametrize("sample", ["err_unknown_task_json.stdout", "err_bad_param_json.stdout"])
def test_parser_trailing_error_block(sample):
    kinds = _kinds(sample)
    assert kinds.count("error") == 1
    assert "log" not in kinds and "item" not in kinds


def test_parser_bare_error_object():
    (line,) = [classify_stdout(line) for line in _lines("err_bad_inventory_json.stdout")]
    assert line.kind == "error"
    assert error_of(line.payload)["kind"] == "bolt/file-error"


@pytest.mark.parametrize("sample", ["err_bad_flag_json.stdout", "err_bad_format.stdout", "err_no_targets_json.stdout"])
def test_parser_plain_text_errors_are_log_lines(sample):
    assert set(_kinds(sample)) == {"log"}


def test_parser_truncated_output_after_sigterm():
    assert _kinds("sig_TERM.stdout") == ["structure"]
    assert _kinds("err_winrm_missing_gem.stdout") == ["structure"]


def test_parser_footer_and_separators_are_structure():
    assert classify_stdout('"target_count": 2, "elapsed_time": 0 }').kind == "structure"
    assert classify_stdout(",").kind == "structure"
    assert classify_stdout("],").kind == "structure"


def test_parser_stream_line_keeps_text_exactly():
    line = classify_stdout("[web01] out:   indented \x1b[32mgreen\x1b[0m\r")
    assert (line.target, line.stream, line.text) == ("web01", "stdout", "  indented \x1b[32mgreen\x1b[0m\r\n")
    assert classify_stdout("[me] out: ").text == "\n"


def test_parser_stderr_ansi_stripped():
    raw = (SAMPLES / "cmd_stream_json.stderr").read_text().splitlines()
    cleaned = [clean_stderr(line) for line in raw]
    assert cleaned[0].startswith("The 'stream' option is experimental")
    assert "\x1b" not in cleaned[0]
    assert cleaned[1] is None  # a line holding only ESC[0m


def test_parser_decode_keeps_invalid_bytes_visible():
    assert decode(b"ok \xff\xfe end") == "ok \\xFF\\xFE end"
