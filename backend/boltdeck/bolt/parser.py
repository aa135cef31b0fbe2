"""Classify each line bolt prints with `--format json --stream` (see shared/bolt-samples)."""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, NamedTuple

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_STRUCTURE = {'{ "items": [', ",", "],", "}", '"_error": ', '"_error":'}
_FOOTER = re.compile(r'^"target_count": \d+, "elapsed_time": [\d.]+ ?}$')
_STRUCTURE_MAX = 200  # structural lines are short: a longer `{...` line is never stripped or hashed whole
_NON_SPACE = re.compile(r"\S")
_STREAMS = {" out:": "stdout", " err:": "stderr"}


class Line(NamedTuple):
    """One classified stdout line: kind is stream, item, error, log or structure.

    A named tuple rather than a frozen dataclass: one is made per line bolt prints, and a
    frozen dataclass costs ~1 µs to build (a third of a stream line's classification).
    """

    kind: str
    target: str | None = None
    stream: str | None = None  # "stdout" | "stderr" for kind stream
    text: str | None = None
    payload: dict[str, Any] | None = None


_STRUCTURE_LINE = Line("structure")


def decode(raw: bytes) -> str:
    """Bytes to text without losing any byte: each invalid UTF-8 byte becomes the text \\xNN.

    Upper-case hex, as Bolt's own results spell it, so a line reads the same live and final.
    """
    return raw.decode("utf-8", errors=_HEX_ESCAPES)


def _hex_escapes(error: UnicodeDecodeError) -> tuple[str, int]:
    return "".join(f"\\x{byte:02X}" for byte in error.object[error.start : error.end]), error.end


_HEX_ESCAPES = "boltdeck-hex-escapes"
codecs.register_error(_HEX_ESCAPES, _hex_escapes)


def classify_stdout(line: str) -> Line:
    """Classify one stdout line (without its trailing newline).

    Stream lines (`[target] out: text`) are cut apart with `find` and `startswith`, never a
    regex, so a long line costs one scan. Bolt's result items (a JSON object per target,
    repeating its whole output) are parsed once, as they are: never stripped, hashed or
    matched as a whole first.
    """
    if line.startswith("["):
        stream = _stream_line(line)
        if stream is not None:
            return stream
    if len(line) <= _STRUCTURE_MAX or not line.startswith("{"):
        stripped = line.strip()
        if not stripped or stripped in _STRUCTURE or _FOOTER.match(stripped):
            return _STRUCTURE_LINE
    first = _NON_SPACE.search(line)
    if first is not None and line[first.start()] == "{":
        payload = _json_object(line)  # json.loads skips the whitespace around the object itself
        if payload is not None:
            if "target" in payload and "status" in payload:
                return Line("item", target=str(payload["target"]), payload=payload)
            if "kind" in payload and "msg" in payload:
                return Line("error", payload=payload)
    return Line("log", text=line)


def _stream_line(line: str) -> Line | None:
    """`[target] out: text` (or `err:`, the space after the colon optional) as a stream Line, else None."""
    close = line.find("]", 1)
    if close < 2:
        return None
    stream = _STREAMS.get(line[close + 1 : close + 6])
    if stream is None or "\n" in line[1:close]:
        return None
    start = close + 7 if line.startswith(" ", close + 6) else close + 6
    return Line("stream", line[1:close], stream, line[start:] + "\n")


def one_stream_run(block: str, count: int) -> tuple[tuple[str, str], str] | None:
    """(stream, target) and the text that classifying each line would give when all `count` lines of
    `block` are stream lines of one target and stream; else None.

    Every line then starts with the first line's `[target] out: ` (the first `]` of such a line
    ends its target, so they all classify as the first does): cutting that prefix off each
    line is two C-speed passes, not a classification per line. Only when the first line has
    the space after the colon (Bolt always writes it): a prefix without it could not tell a
    later line's own leading space from the separator.
    """
    end = block.find("\n")
    first = classify_stdout(block if end < 0 else block[:end])
    if first.kind != "stream":
        return None
    prefix = block[: block.find("]") + 7]
    if not prefix.endswith(" ") or block.count("\n" + prefix) != count - 1:
        return None
    return (first.stream, first.target), block[len(prefix) :].replace("\n" + prefix, "\n") + "\n"


def clean_stderr(line: str) -> str | None:
    """Strip ANSI escapes from a Bolt log line; None when nothing readable is left."""
    text = ANSI.sub("", line).rstrip("\r")
    return text if text.strip() else None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def error_of(item_or_error: dict[str, Any]) -> dict[str, Any]:
    """Normalise Bolt's error object ({kind, issue_code, msg, details}) to Boltdeck's shape."""
    return {
        "kind": item_or_error.get("kind"),
        "issueCode": item_or_error.get("issue_code"),
        "message": item_or_error.get("msg"),
        "details": item_or_error.get("details") or {},
    }


def result_of(item: dict[str, Any]) -> dict[str, Any]:
    """Turn a Bolt result item into a per-target result."""
    value = item.get("value")
    value = value if isinstance(value, dict) else {"_output": value}
    error = value.get("_error")
    result: dict[str, Any] = {
        "target": str(item.get("target")),
        "status": "success" if item.get("status") == "success" else "failure",
        "action": item.get("action"),
        "exitCode": value.get("exit_code"),
        "stdout": value.get("stdout"),
        "stderr": value.get("stderr"),
        "value": None,
        "error": error_of(error) if isinstance(error, dict) else None,
    }
    if item.get("action") != "command":
        result["value"] = {k: v for k, v in value.items() if k not in ("_error", "_output")} or None
        if "_output" in value:
            result["stdout"] = value["_output"]
    if result["exitCode"] is None and isinstance(error, dict):
        details = error.get("details") or {}
        result["exitCode"] = details.get("exit_code") if isinstance(details, dict) else None
    return result
