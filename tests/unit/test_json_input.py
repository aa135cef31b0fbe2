"""parse_json and nesting_depth: client JSON checked without recursion (issue 11)."""

from __future__ import annotations

import json

import pytest

from boltdeck.errors import ValidationError
from boltdeck.schemas.json_input import nesting_depth, parse_json


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ('"[[[{{{"', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["\\"[[[", ["\\\\"], [[]]]', 3),  # an escaped quote does not end the string; \\ does not escape "
        ('{"k\\u005b": "\\u007b"}', 1),
        ("[[[]],[[[[]]]]]", 5),
    ],
)
def test_json_input_nesting_depth_counts_only_brackets_outside_strings(text, depth):
    assert nesting_depth(text) == depth
    if text:
        assert nesting_depth(text) == _depth_by_parsing(json.loads(text))


def _depth_by_parsing(value) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((_depth_by_parsing(v) for v in value), default=0)
    return 0


def test_json_input_depth_of_a_million_levels_needs_no_recursion():
    """Bug (issue 11): json.loads raised RecursionError ~1,000 levels down, a 500 on every JSON route."""
    text = "[" * 1_000_000 + "]" * 1_000_000
    assert nesting_depth(text) == 1_000_000
    with pytest.raises(ValidationError) as refused:
        parse_json(text, 32)
    assert refused.value.code == "invalid_json" and refused.value.status == 400


def test_json_input_refuses_what_cannot_be_text():
    for data, words in [
        (b"\xc3\x28", "not UTF-8"),
        ('["\\udc00"]', "lone UTF-16 surrogate"),
        ('{"a": 1,}', "not valid JSON"),
    ]:
        with pytest.raises(ValidationError, match=words):
            parse_json(data, 32)
    assert parse_json('["\\ud83d\\ude00"]', 32) == ["\U0001f600"]
    assert parse_json(json.dumps({"a": [[1]]}).encode(), 3) == {"a": [[1]]}
