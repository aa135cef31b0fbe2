"""The server numbers a pane's lines as the viewer does (executions/panes.py, frontend/js/lines.js)."""

from __future__ import annotations

from boltdeck.executions.panes import Line, PaneLines, Piece, Run, line_range, pieces_of, search_lines, search_pattern


def items(*pieces: Piece) -> list[Line | Run]:
    numbering = PaneLines()
    return [item for piece in pieces for item in numbering.feed(piece)] + numbering.unfinished()


def numbered(*pieces: Piece) -> list[tuple[int, int, int, str, str]]:
    lines = [line for item in items(*pieces) for line in (item.lines() if isinstance(item, Run) else [item])]
    return sorted((line.n, line.seq, line.idx, line.stream, line.shown()) for line in lines)


def test_a_line_belongs_to_the_event_it_starts_in_and_idx_counts_within_it():
    assert numbered(Piece(1, "stdout", "a\nb", "t1"), Piece(2, "stdout", "c\nd\n", "t2"), Piece(3, "stdout", "e\n", "t3")) == [
        (0, 1, 0, "stdout", "a"),
        (1, 1, 1, "stdout", "bc"),
        (2, 2, 0, "stdout", "d"),
        (3, 3, 0, "stdout", "e"),
    ]


def test_stdout_and_stderr_interleave_by_the_start_of_their_lines():
    lines = numbered(Piece(1, "stdout", "out-", "t"), Piece(2, "stderr", "err\n", "t"), Piece(3, "stdout", "more\n", "t"))
    assert lines == [(0, 1, 0, "stdout", "out-more"), (1, 2, 0, "stderr", "err")]


def test_carriage_returns_and_escape_sequences_start_no_line_and_show_what_follows():
    lines = numbered(
        Piece(1, "stdout", "\x1b[32m", "t"),  # a colour alone starts nothing
        Piece(2, "stdout", "\r", "t"),
        Piece(3, "stdout", "10%\r50%\r100%\x1b[0m\n", "t"),
        Piece(4, "stdout", "kept\r\n\n", "t"),  # CR LF ends a line; an empty line is a line
    )
    assert lines == [(0, 3, 0, "stdout", "100%"), (1, 4, 0, "stdout", "kept"), (2, 4, 1, "stdout", "")]


def test_a_final_piece_ends_its_last_line():
    assert numbered(Piece(1, "stdout", "one\ntwo", "t", final=True), Piece(1, "stderr", "Error: x\n", "t", final=True)) == [
        (0, 1, 0, "stdout", "one"),
        (1, 1, 1, "stdout", "two"),
        (2, 1, 2, "stderr", "Error: x"),
    ]


def test_results_give_text_only_without_expert_mode_and_their_error_always():
    event = {"type": "result", "seq": 9, "timestamp": "t", "data": {"stdout": "so\n", "stderr": "", "error": {"message": "boom", "kind": "k"}}}
    assert [p.text for p in pieces_of(event, expert_mode=False, log_pane=False)] == ["so\n", "Error: boom (k)\n"]
    assert [p.text for p in pieces_of(event, expert_mode=True, log_pane=False)] == ["Error: boom (k)\n"]
    assert pieces_of(event, expert_mode=True, log_pane=True) == []
    command = {"type": "command", "seq": 1, "timestamp": "t", "data": {"argv": "bolt command run"}}
    assert [p.text for p in pieces_of(command, expert_mode=True, log_pane=True)] == ["$ bolt command run\n"]


def test_whole_lines_of_plain_text_come_as_runs_numbered_like_single_lines():
    pieces = (Piece(1, "stdout", "a1\na2\na", "t"), Piece(2, "stderr", "e1\ne2\n", "t"), Piece(3, "stdout", "3\na4\n\x1b[1ma5\x1b[0m\n", "t"))
    found = items(*pieces)
    assert any(isinstance(item, Run) for item in found), "plain whole lines need no Line each"
    assert numbered(*pieces) == [
        (0, 1, 0, "stdout", "a1"),
        (1, 1, 1, "stdout", "a2"),
        (2, 1, 2, "stdout", "a3"),
        (3, 2, 0, "stderr", "e1"),
        (4, 2, 1, "stderr", "e2"),
        (5, 3, 0, "stdout", "a4"),
        (6, 3, 1, "stdout", "a5"),
    ]
    matches, count, total = search_lines(items(*pieces), search_pattern("A"), "stdout", before=6, limit=2)
    assert (count, total) == (4, 7) and [(m.n, m.shown()) for m in matches] == [(2, "a3"), (5, "a4")]
    assert search_lines(items(*pieces), search_pattern("e"), "stderr", before=None, limit=10)[1] == 2
    chosen, total = line_range(items(*pieces), 1, 4)
    assert [(m.n, m.raw) for m in chosen] == [(1, "a2"), (2, "a3"), (3, "e1")] and total == 7


def test_a_limit_above_the_matches_lists_them_all():
    pieces = (Piece(1, "stdout", "m1\nm2\nm3\n", "t"),)
    for limit in (3, 4, 5, 6, 1000):  # between one and two times the matches too (a slice from a negative start)
        matches, count, _ = search_lines(items(*pieces), search_pattern("m"), "all", before=None, limit=limit)
        assert (count, [m.n for m in matches]) == (3, [0, 1, 2]), limit
