"""Property tests: the Bolt output classifier never raises and never loses stream text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from boltdeck.bolt.parser import classify_stdout, clean_stderr, decode, result_of

target_names = st.text(
    alphabet=st.characters(blacklist_characters="]\n", blacklist_categories=("Cs",)), min_size=1, max_size=40
)
line_text = st.text(alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=5000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=10000))
def test_parser_fuzz_arbitrary_bytes_never_raise(raw):
    text = decode(raw)
    for line in text.split("\n"):
        kind = classify_stdout(line).kind
        assert kind in {"stream", "item", "error", "log", "structure"}
        clean_stderr(line)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_fuzz_decode_keeps_every_byte(raw):
    text = decode(raw)
    assert text.encode("utf-8", errors="surrogateescape") == raw or "\\x" in text
    # every undecodable byte is shown as a \xNN escape, so nothing silently disappears
    assert len(text.encode("utf-8")) >= len(raw)


@settings(max_examples=300, deadline=None)
@given(target_names, st.sampled_from(["out", "err"]), line_text)
def test_parser_fuzz_stream_text_is_kept_exactly(target, stream, text):
    line = classify_stdout(f"[{target}] {stream}: {text}")
    assert line.kind == "stream"
    assert line.target == target
    assert line.text == text + "\n"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["stdout", "stderr", "exit_code", "_error", "_output", "x"]), st.integers() | st.text()),
    st.integers(min_value=0, max_value=200),
)
def test_parser_fuzz_truncated_json_items(value, cut):
    item = json.dumps({"target": "t", "action": "command", "object": "x", "status": "failure", "value": value})
    line = classify_stdout(item[: len(item) - cut] if cut else item)
    assert line.kind in {"item", "log", "structure"}
    if line.kind == "item":
        result = result_of(line.payload)
        assert result["target"] == "t"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=10_000, max_value=400_000))
def test_parser_fuzz_very_long_lines(size):
    line = classify_stdout("[web01] out: " + "x" * size)
    assert line.kind == "stream" and len(line.text) == size + 1
