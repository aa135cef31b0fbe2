"""Classify each line bolt prints with `--format json --stream` (see shared/bolt-samples)."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

STREAM_LINE = re.compile(r"^\[(?P<target>[^\]\n]+)\] (?P<stream>out|err): ?(?P<text>.*)\Z", re.S)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_STRUCTURE = {'{ "items": [', ",", "],", "}", '"_error": ', '"_error":'}
_FOOTER = re.compile(r'^"target_count": \d+, "elapsed_time": [\d.]+ ?}$')


@dataclass(frozen=True)
class Line:
    """One classified stdout line: kind is stream, item, error, log or structure."""

    kind: str
    target: str | None = None
    stream: str | None = None  # "stdout" | "stderr" for kind stream
    text: str | None = None
    payload: dict[str, Any] | None = None


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
    """Classify one stdout line (without its trailing newline)."""
    match = STREAM_LINE.match(line)
    if match:
        stream = "stdout" if match["stream"] == "out" else "stderr"
        return Line("stream", target=match["target"], stream=stream, text=match["text"] + "\n")
    stripped = line.strip()
    if stripped in _STRUCTURE or _FOOTER.match(stripped) or not stripped:
        return Line("structure")
    if stripped.startswith("{"):
        payload = _json_object(stripped)
        if payload is not None:
            if "target" in payload and "status" in payload:
                return Line("item", target=str(payload["target"]), payload=payload)
            if "kind" in payload and "msg" in payload:
                return Line("error", payload=payload)
    return Line("log", text=line)


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
