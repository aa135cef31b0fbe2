"""Bounded line reading: LineSplitter and JsonTrimmer (issue 10, memory bounded by the output cap).

Bug: the runner read each of Bolt's lines whole (`readline`), and Bolt's result line repeats
all output, so one 100 MB line cost the server +577 MB before anything was cut.
"""

from __future__ import annotations

import json
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from boltdeck.bolt import parser
from boltdeck.bolt.jsontrim import JsonTrimmer, trim_json
from boltdeck.bolt.lines import HEAD_SLACK, LineSplitter, take_text

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _raw_size(text: str, ascii_only: bool) -> int:
    return len(json.dumps(text, ensure_ascii=ascii_only).encode()) - 2


def _expected_cut(value, limit: int, ascii_only: bool):
    """Every string replaced by its longest prefix whose JSON form fits in `limit` bytes."""
    if isinstance(value, str):
        keep = len(value)
        while _raw_size(value[:keep], ascii_only) > limit:
            keep -= 1
        return value[:keep]
    if isinstance(value, list):
        return [_expected_cut(v, limit, ascii_only) for v in value]
    if isinstance(value, dict):
        return {_expected_cut(k, limit, ascii_only): _expected_cut(v, limit, ascii_only) for k, v in value.items()}
    return value


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)


def _fed_in_chunks(text: bytes, cuts: list[int], limit: int) -> bytes:
    trimmer = JsonTrimmer(limit)
    start = 0
    for cut in sorted(c % (len(text) + 1) for c in cuts):
        trimmer.feed(text[start:cut])
        start = max(start, cut)
    trimmer.feed(text[start:])
    return bytes(trimmer.result())


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.lists(st.integers(min_value=0), max_size=6))
def test_json_trimmer_with_a_huge_limit_returns_the_same_json(value, ascii_only, cuts):
    text = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert _fed_in_chunks(text, cuts, limit=len(text) + 1) == text
    assert trim_json(text, len(text) + 1) == (text, False)


@settings(max_examples=500, deadline=None)
@given(json_values, st.booleans(), st.integers(0, 24), st.lists(st.integers(min_value=0), max_size=6))
def test_json_trimmer_with_a_small_limit_cuts_every_string_and_still_parses(value, ascii_only, limit, cuts):
    text = json.dumps(value, ensure_ascii=ascii_only).encode()
    kept, truncated = trim_json(text, limit)
    parsed = json.loads(kept)
    assert all(len(s.encode("utf-8")) <= limit for s in _strings(parsed))  # no lone surrogate either
    assert parsed == _expected_cut(value, limit, ascii_only)  # prefixes, cut on whole characters
    assert truncated == any(_raw_size(s, ascii_only) > limit for s in _strings(value))
    assert _fed_in_chunks(text, cuts, limit) == kept  # chunk boundaries change nothing


def test_json_trimmer_never_splits_escapes_or_characters():
    value = 'a\\"\n\u00e9\u20ac\U0001f600\t' * 3
    for ascii_only in (True, False):
        text = json.dumps({"stdout": value}, ensure_ascii=ascii_only).encode()
        for limit in range(len("stdout"), len(text)):  # a smaller limit cuts the key too
            kept = json.loads(trim_json(text, limit)[0])["stdout"]
            assert value.startswith(kept) and len(kept.encode()) <= limit


def test_json_trimmer_finds_the_end_of_strings_full_of_escaped_quotes():
    value = '\\"' * 50 + "end"  # backslash-quote pairs: many escaped quotes, some after a backslash
    text = json.dumps([value, "after"]).encode()
    for size in (1, 2, 3, 5, 61, 62, 63, 64, len(text)):  # 61-64: chunks ending at each byte of a pair
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        for limit, expected in ((len(text), [value, "after"]), (31, [value[:15], "after"])):  # 7 pairs and a \\
            trimmer = JsonTrimmer(limit)
            for chunk in chunks:
                trimmer.feed(chunk)
            assert json.loads(trimmer.result()) == expected, (size, limit)


def test_json_trimmer_empties_skipped_keys_without_calling_it_a_cut():
    text = b'{"value":{"stdout":"abc","merged_output":"abcdef","note":"merged_output"}}'
    trimmer = JsonTrimmer(100, skip_keys=frozenset({b"merged_output"}))
    trimmer.feed(text)
    assert json.loads(trimmer.result()) == {"value": {"stdout": "abc", "merged_output": "", "note": "merged_output"}}
    assert trimmer.truncated is False


def test_json_trimmer_stops_at_max_bytes_and_says_so():
    trimmer = JsonTrimmer(10, max_bytes=50)
    trimmer.feed(b"[" + b", ".join([b'"0123456789"'] * 20) + b"]")
    assert len(trimmer.result()) == 50
    assert trimmer.overflowed and trimmer.truncated


def _split(chunks: list[bytes], limit: int) -> list[tuple[bytes, bool]]:
    lines: list[tuple[bytes, bool]] = []
    splitter = LineSplitter(limit, lambda line, cut: lines.append((bytes(line), cut)))
    for chunk in chunks:
        splitter.feed(chunk)
    splitter.close()
    return lines


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=12), st.booleans(), st.data())
def test_line_splitter_passes_short_lines_unchanged_whatever_the_chunks(lines, final_newline, data):
    lines = [line for line in lines if not line.startswith(b"{")]  # JSON lines are the trimmer's
    stream = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    expected = stream.split(b"\n")
    if expected[-1] == b"":
        expected.pop()  # a final newline ends the last line; it does not start an empty one
    assert _split(chunks, limit=100) == [(line, False) for line in expected]


def test_line_splitter_cuts_a_long_plain_line_to_its_head():
    line = b"[t] out: " + b"x" * (3 * HEAD_SLACK)
    chunks = [line[i : i + 1000] for i in range(0, len(line), 1000)] + [b"\nnext\n"]
    (kept, cut), (after, after_cut) = _split(chunks, 10)
    assert (kept, cut) == (line[: 10 + HEAD_SLACK], True)
    assert (after, after_cut) == (b"next", False)


def test_line_splitter_trims_a_long_result_line_and_it_still_parses():
    output = "x" * 5000
    item = {"target": "t", "status": "success", "value": {"stdout": output, "stderr": "e", "merged_output": output}}
    text = json.dumps(item).encode() + b"\n"
    ((line, cut),) = _split([text[i : i + 7] for i in range(0, len(text), 7)], limit=2000)
    parsed = json.loads(line)
    assert cut is True
    assert parsed["value"] == {"stdout": "x" * 2000, "stderr": "e", "merged_output": ""}


def test_line_splitter_trims_a_long_list_of_results_and_it_still_parses():
    """A plan returning a ResultSet, or `bolt apply`, prints its results as one JSON list line."""
    items = [{"target": f"t{i}", "status": "success", "value": {"stdout": "y" * 5000}} for i in range(3)]
    text = json.dumps(items).encode() + b"\n"
    ((line, cut),) = _split([text[i : i + 64] for i in range(0, len(text), 64)], limit=2000)
    assert cut is True
    assert json.loads(line) == [{**item, "value": {"stdout": "y" * 2000}} for item in items]


def test_line_splitter_keeps_keys_and_target_names_under_a_tiny_limit():
    item = {"target": "a-rather-long-target-name.example.com", "status": "success", "value": {"stdout": "x" * 5000}}
    ((line, cut),) = _split([json.dumps(item).encode()], limit=1)
    parsed = json.loads(line)
    assert cut is True
    assert (parsed["target"], parsed["status"], parsed["value"]["stdout"]) == (item["target"], "success", "x" * 1024)


def _long_result_line(output_bytes: int, chunk: int = 64 * 1024):
    yield b'{"target":"t","status":"success","value":{"stdout":"'
    for _ in range(output_bytes // chunk):
        yield b"y" * chunk
    yield b'","merged_output":"'
    for _ in range(output_bytes // chunk):
        yield b"y" * chunk
    yield b'","exit_code":0}}\n'


def test_line_splitter_memory_stays_within_the_limit_for_a_50MB_line():
    """A 100 MB result line (50 MB of output, twice) through a 1 MiB limit never holds more than ~2 MiB."""
    limit = 1024 * 1024
    sizes: list[int] = []
    splitter = LineSplitter(limit, lambda line, cut: sizes.append(len(line)))
    tracemalloc.start()
    try:
        for chunk in _long_result_line(50 * 1024 * 1024):
            splitter.feed(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sizes and sizes[0] < limit + 1000
    assert peak < 2 * limit + 512 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_take_text_frees_the_handed_over_buffer():
    line = bytearray(b"caf\xc3\xa9 \xff")
    assert take_text(line) == "caf\u00e9 \\xFF"
    assert line == bytearray()


def _split_in_runs(chunks: list[bytes], limit: int) -> tuple[list[tuple[bytes, bool]], list[list[bytes]]]:
    """Lines as a splitter with a runs handler hands them on: flattened in order, and the runs themselves."""
    lines: list[tuple[bytes, bool]] = []
    runs: list[list[bytes]] = []

    def on_lines(run: list[bytes]) -> None:
        runs.append(list(run))
        lines.extend((line, False) for line in run)

    splitter = LineSplitter(limit, lambda line, cut: lines.append((bytes(line), cut)), on_lines)
    for chunk in chunks:
        splitter.feed(chunk)
    splitter.close()
    return lines, runs


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
            st.just(b'{"target":"t","status":"success","value":{"stdout":"x"}}'),
            st.just(b"y" * 150),  # past the limit: cut, handed on alone
        ),
        max_size=12,
    ),
    st.data(),
)
def test_line_splitter_in_runs_hands_on_every_line_in_order_as_one_by_one(lines, data):
    stream = b"\n".join(lines) + b"\n"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    in_runs, runs = _split_in_runs(chunks, limit=100)
    assert in_runs == _split(chunks, limit=100)
    for run in runs:  # a run holds only whole short plain lines
        assert run and all(len(line) <= 100 and not line.startswith(b"{") for line in run)


def test_line_splitter_hands_on_a_chunks_plain_lines_in_one_run_around_a_result_line():
    chunk = b"[a] out: 1\n[a] out: 2\n" + b'{"target":"a","status":"success"}\n' + b"[a] out: 3\n[a] out: 4\npart"
    lines, runs = _split_in_runs([chunk, b"ial\n"], limit=100)
    assert runs == [[b"[a] out: 1", b"[a] out: 2"], [b"[a] out: 3", b"[a] out: 4"]]
    assert lines[2] == (b'{"target":"a","status":"success"}', False)
    assert lines[-1] == (b"partial", False)  # a line completed across chunks comes one by one


def _one_by_one(lines: list[str]):
    """What classifying each line gives for a run of stream lines of one target and stream, else None."""
    classified = [parser.classify_stdout(line) for line in lines]
    keys = {(line.kind, line.stream, line.target) for line in classified}
    if len(keys) != 1 or classified[0].kind != "stream":
        return None
    return (classified[0].stream, classified[0].target), "".join(line.text for line in classified)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["[web1] out: ", "[web1] out:", "[web1] err: ", "[web2] out: ", "[a]b] out: ", "", "[] out: "]
            ),
            st.text(alphabet=" []:outerb\r\x1b%x\u00e9", max_size=12),
        ).map("".join),
        min_size=1,
        max_size=8,
    )
)
def test_a_run_of_one_targets_stream_lines_is_cut_as_classifying_each_line_would(lines):
    fast = parser.one_stream_run("\n".join(lines), len(lines))
    if fast is not None:  # else the lines are classified one by one
        assert fast == _one_by_one(lines)


def test_a_run_of_one_targets_stream_lines_takes_the_fast_way():
    lines = ["[web1] out: t=1 i=1", "[web1] out:  two spaces", "[web1] out: [web1] out: again", "[web1] out: "]
    assert parser.one_stream_run("\n".join(lines), 4) == (
        ("stdout", "web1"), "t=1 i=1\n two spaces\n[web1] out: again\n\n"
    )
    assert parser.one_stream_run("[web1] out: a\n[web2] out: b", 2) is None
    assert parser.one_stream_run("[web1] out:a\n[web1] out: b", 2) is None  # no space: one by one
