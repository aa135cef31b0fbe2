"""JSON from clients, parsed so that no text can crash the server: encoding, depth and strings checked."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from flask.json.provider import DefaultJSONProvider

from ..errors import ValidationError

_ESCAPE = re.compile(r"\\.", re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(data: str | bytes, max_depth: int, what: str = "the request body") -> Any:
    """Parse JSON from a client; any problem is a ValidationError (`invalid_json`) naming it.

    Python's parser recurses once per level and raises RecursionError about 1,000 levels
    down, so the depth is checked first, without recursion. Bytes must be UTF-8, and no
    string may hold a lone UTF-16 surrogate (`"\\ud800"`), which no store or argv can encode.
    """
    text = _text(data, what)
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise _invalid(f"{what} nests arrays and objects more than {max_depth} levels deep", what)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _invalid(f"{what} is not valid JSON: {exc}", what) from None
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(value, what)
    return value


def json_type(value: Any) -> str:
    """JSON's name for the type of a parsed value: "array", "string", "null", ..."""
    names = {bool: "boolean", str: "string", list: "array", dict: "object", int: "number", float: "number"}
    return "null" if value is None else next((n for kind, n in names.items() if isinstance(value, kind)), "value")


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, counted without recursion.

    Escapes are dropped first, so every quote left opens or closes a string; the brackets
    outside strings are then counted. In invalid JSON the count can be off only after the
    first error, where a parser stops anyway, so it never reads deeper than this says.
    """
    outside_strings = "".join(_ESCAPE.sub("", text).split('"')[0::2])
    brackets = _NOT_BRACKET.sub("", outside_strings)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _text(data: str | bytes, what: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}", what) from None


def _refuse_lone_surrogates(value: Any, what: str) -> None:
    try:  # the depth is bounded by now, so dumps' recursion is safe
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        problem = f"{what} holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not text"
        raise _invalid(problem, what) from None


def _invalid(message: str, what: str) -> ValidationError:
    field = "body" if what == "the request body" else "message"
    return ValidationError(message, code="invalid_json", details={field: [message]})


class RequestJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies read by parse_json: a bad body is a 400, never a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if not s.strip():
            raise ValueError("no body")  # what json.loads says: get_json(silent=True) is None, as before
        return parse_json(s, self._app.config["BOLTDECK_SETTINGS"].max_json_depth)
