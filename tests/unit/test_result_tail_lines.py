"""The tail of a big run: Bolt's result line, MBs long, arrives in pipe reads holding no newline.

`LineSplitter.feed` takes such a chunk without splitting it (issue 13's tail); what comes
out must be what feeding the same bytes in any other chunks gives.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from boltdeck.bolt import parser
from boltdeck.bolt.lines import HEAD_SLACK, LineSplitter, take_text
from boltdeck.bolt.runner import READ_BYTES

OUTPUT = ("y" * 99 + "\n") * 20_000  # 2 MB of 100-byte lines, as the throughput bench prints (scaled down)


def _result_line(output: str) -> bytes:
    value = {"stdout": output, "stderr": "", "merged_output": output, "exit_code": 0}
    item = {"target": "localhost", "action": "command", "object": "emit", "status": "success", "value": value}
    return json.dumps(item).encode()


def _split(data: bytes, sizes: list[int], limit: int) -> list[tuple[bytes, bool]]:
    """Feed `data` in chunks of the given sizes (the last one takes the rest); the lines that come out."""
    lines: list[tuple[bytes, bool]] = []
    splitter = LineSplitter(limit, lambda line, cut: lines.append((bytes(line), cut)))
    pos = 0
    for size in sizes:
        splitter.feed(data[pos : pos + size])
        pos += size
    splitter.feed(data[pos:])
    splitter.close()
    return lines


def test_a_result_line_in_pipe_reads_comes_out_whole_without_merged_output_then_the_next_lines():
    stream = b"[localhost] out: last\n" + _result_line(OUTPUT) + b"\n],\n"
    reads = [READ_BYTES] * (len(stream) // READ_BYTES)  # most reads hold no newline
    lines = _split(stream, reads, limit=2 * len(OUTPUT))
    assert [cut for _, cut in lines] == [False, False, False]
    assert lines[0][0] == b"[localhost] out: last" and lines[2][0] == b"],"
    line = parser.classify_stdout(take_text(bytearray(lines[1][0])))
    assert line.kind == "item"
    assert parser.result_of(line.payload)["stdout"] == OUTPUT
    assert line.payload["value"]["merged_output"] == ""  # emptied while it streamed in, never decoded


def test_a_long_plain_line_in_pipe_reads_keeps_its_head_and_the_next_line_comes_whole():
    long = b"[localhost] out: " + b"x" * (3 * READ_BYTES)
    lines = _split(long + b"\nnext\n", [READ_BYTES] * 3, limit=1000)
    assert lines == [(long[: 1000 + HEAD_SLACK], True), (b"next", False)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3 * READ_BYTES), max_size=8), st.integers(100, 300_000))
def test_chunks_without_a_newline_give_the_lines_one_whole_feed_gives(sizes, limit):
    small = ("z" * 49 + "\n") * 4_000
    stream = b"{ \"items\": [\n" + _result_line(small) + b"\n[t] out: " + b"w" * 150_000 + b"\n],\nend"
    assert _split(stream, sizes, limit) == _split(stream, [], limit)
