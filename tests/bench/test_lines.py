"""The bench's own logic: lines cut at Bolt's read boundaries put back together; runs compared."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.lines import _bolt_stream_text, stamped_lines  # noqa: E402

READ = 37  # the real Bolt reads 4,096 bytes at a time; a short read here cuts many lines


def _emitted(count: int, pad: bytes = b" xxxxxxxx") -> bytes:
    return b"".join(b"t=%d i=%d%s\n" % (1_000_000 + i, i, pad) for i in range(count))


def test_stamped_lines_reassembles_lines_cut_at_read_boundaries():
    data = _emitted(50)
    # each read is printed as a line of its own, with a newline Bolt adds
    pieces = [(5000 + k, data[k : k + READ] + b"\n") for k in range(0, len(data), READ)]
    found = stamped_lines(pieces)
    assert [index for index, _, _ in found] == list(range(50))
    assert [printed for _, printed, _ in found] == [1_000_000 + i for i in range(50)]
    for index, _, arrived in found:  # a line arrives with the piece holding its last byte
        last_byte = data.index(b"\n", data.index(b"i=%d " % index)) - 1
        assert arrived == 5000 + last_byte // READ * READ


def test_stamped_lines_whole_lines_and_lines_without_padding():
    data = _emitted(5, pad=b"")
    pieces = [(7, data[:11]), (8, data[11:])]  # no newline added: the double's and the floor's pipes
    assert stamped_lines(pieces) == [(0, 1_000_000, 8), *[(i, 1_000_000 + i, 8) for i in range(1, 5)]]


def test_bolt_stream_text_takes_out_lines_only():
    assert _bolt_stream_text(b"[localhost] out: t=1 i=0") == b"t=1 i=0"
    assert _bolt_stream_text(b"[localhost] err: t=1 i=0") is None
    assert _bolt_stream_text(b'{"target":"localhost"}') is None


def test_report_compare_puts_a_measure_beside_the_same_one_of_the_earlier_run():
    from bench.report import compare
    from bench.result import Row, ScenarioResult

    before = [ScenarioResult("fanout", "F", [Row("p99", 148.5, 0.9, "ms", "< 50", False)])]
    after = [ScenarioResult("fanout", "F", [Row("p99", 11.4, 0.2, "ms", "< 50", True), Row("new", 1, None, "x")])]
    lines = compare(before, after).splitlines()
    assert lines[2] == "| fanout | p99 | 148.5 | 11.4 | 0.2 | ms | < 50 | yes |"
    assert lines[3] == "|  | new | - | 1 | - | x |  |  |"
