"""The output viewer's lines, numbered on the server as the browser numbers them.

The web UI shows each target's output (stdout and stderr) in a pane, and Bolt's own log in
another, and numbers a pane's lines from 0 in the order they start. A browser keeps only the
newest lines of a long run in memory; for the older ones it asks the server, which reads the
event log and numbers the lines the same way (`frontend/js/pieces.js` says which events give
which pane what text; `frontend/js/lines.js` how text becomes lines):

- a line feed ends a line; a line starts with its first visible character or its line feed
  (an escape sequence or a carriage return alone starts nothing), in the event that holds it,
  and `idx` counts the lines that start in one event;
- stdout and stderr each have their own open line, so they interleave by line;
- a result's text (what a pane shows without expert mode) is whole: its last line ends with it;
- a line shows what follows its last carriage return (progress bars rewrite the line), without
  escape sequences; `text` keeps the raw line (colours and all) for the browser to draw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field

import gevent

from ..bolt.parser import ANSI
from ..storage import ExecutionStore

LOG_PANE_TYPES = ("log", "command", "error")
TARGET_PANE_TYPES = ("stdout", "stderr", "result")
# Events read at a time (an output event holds up to 64 KiB). Between batches the request lets
# the server's other greenlets run: numbering a million lines takes a few hundred ms of CPU,
# which must not hold up live output for everyone else.
READ_BATCH = 50


@dataclass(frozen=True)
class Piece:
    seq: int
    stream: str  # stdout or stderr
    text: str
    time: str
    final: bool = False  # the text is whole: its last line ends with it


@dataclass
class Line:
    n: int
    seq: int
    idx: int
    stream: str
    time: str
    parts: list[str] = field(default_factory=list)

    @property
    def raw(self) -> str:
        return "".join(self.parts)

    def shown(self) -> str:
        """What the viewer shows of the line: after its last carriage return, no escape sequences."""
        raw = self.raw
        if "\r" not in raw and "\x1b" not in raw:
            return raw
        segments = [s for s in ANSI.sub("", raw).split("\r") if s]
        return segments[-1] if segments else ""

    def body(self, with_text: bool = True) -> dict:
        found = {"n": self.n, "seq": self.seq, "idx": self.idx, "stream": self.stream, "time": self.time}
        if with_text:
            found["text"] = self.raw
        return found


@dataclass
class Run:
    """Whole lines, one after another, of one event and stream without carriage returns or escape
    sequences (most output): shown as they are, so they need no `Line` each until one is asked for."""

    n: int
    seq: int
    idx: int
    stream: str
    time: str
    texts: list[str]

    def line(self, i: int) -> Line:
        return Line(self.n + i, self.seq, self.idx + i, self.stream, self.time, [self.texts[i]])

    def lines(self) -> list[Line]:
        return [self.line(i) for i in range(len(self.texts))]


def pieces_of(event: dict, expert_mode: bool, log_pane: bool) -> list[Piece]:
    """What one event adds to a target's pane (`log_pane` false) or to Bolt's log pane (true)."""
    kind, seq, time = event["type"], event["seq"], event.get("timestamp", "")
    data = event.get("data") or {}
    if log_pane:
        if kind == "log":
            return [Piece(seq, "stdout", str(data.get("text", "")), time)]
        if kind == "command":
            return [Piece(seq, "stdout", f"$ {data.get('argv', '')}\n", time)]
        if kind == "error":
            return [Piece(seq, "stderr", f"{error_text(data)}\n", time)]
        return []
    if kind in ("stdout", "stderr"):
        return [Piece(seq, kind, str(data.get("text", "")), time)]
    if kind != "result":
        return []
    pieces = []
    if not expert_mode:  # the stream events are hidden: the result's text is the output
        pieces += [Piece(seq, s, str(data[s]), time, final=True) for s in ("stdout", "stderr") if data.get(s)]
    if data.get("error"):
        pieces.append(Piece(seq, "stderr", f"{error_text(data['error'])}\n", time, final=True))
    return pieces


def error_text(error: dict | None) -> str:
    """One line saying what an error was (as the viewer writes it)."""
    if not error:
        return ""
    message = error.get("message") or error.get("msg") or "error"
    return f"Error: {message} ({error['kind']})" if error.get("kind") else f"Error: {message}"


class PaneLines:
    """Numbers the lines of a sequence of pieces; `feed` answers the lines it completed."""

    def __init__(self) -> None:
        self.count = 0
        self.open: dict[str, Line | None] = {}
        self.index = (None, 0)  # (seq, lines started in it so far)

    def feed(self, piece: Piece) -> list[Line | Run]:
        done: list[Line | Run] = []
        parts = piece.text.split("\n")
        last = len(parts) - 1
        clean = "\r" not in piece.text and "\x1b" not in piece.text
        i = 0
        while i <= last:
            part = parts[i]
            line = self.open.get(piece.stream)
            if clean and line is None and i < last:  # parts i … last-1 are whole lines
                done.append(self._run(piece, parts[i:last]))
                i = last
                continue
            if line is None and (i < last or _visible(part)):
                line = self.open[piece.stream] = self._start(piece)
            if line is not None:
                line.parts.append(part)
                if i < last or piece.final:
                    done.append(line)
                    self.open[piece.stream] = None
            i += 1
        return done

    def unfinished(self) -> list[Line]:
        """Lines still open (the run goes on, or its output did not end with a line feed), in order."""
        return sorted((line for line in self.open.values() if line is not None), key=lambda line: line.n)

    def _start(self, piece: Piece) -> Line:
        n, idx = self._number(piece, 1)
        return Line(n, piece.seq, idx, piece.stream, piece.time)

    def _run(self, piece: Piece, texts: list[str]) -> Run:
        n, idx = self._number(piece, len(texts))
        return Run(n, piece.seq, idx, piece.stream, piece.time, texts)

    def _number(self, piece: Piece, lines: int) -> tuple[int, int]:
        """Number `lines` lines starting in `piece`: the first one's (n, idx)."""
        seq, started = self.index
        idx = started if seq == piece.seq else 0
        self.index = (piece.seq, idx + lines)
        self.count += lines
        return self.count - lines, idx


def _visible(part: str) -> bool:
    return bool(ANSI.sub("", part).replace("\r", ""))


def pane_lines(
    store: ExecutionStore, execution_id: str, expert_mode: bool, pane_target: str | None, visible: Container[str]
) -> Iterator[Line | Run]:
    """Every line of one pane (`pane_target` None: Bolt's log) as it ends, the open ones last."""
    log_pane = pane_target is None
    types = [t for t in (LOG_PANE_TYPES if log_pane else TARGET_PANE_TYPES) if t in visible]
    numbering = PaneLines()
    after = 0
    while types:
        batch = store.read_events(execution_id, after=after, limit=READ_BATCH, types=types, target=pane_target)
        for stored in batch:
            for piece in pieces_of(json.loads(stored.body), expert_mode, log_pane):
                yield from numbering.feed(piece)
        if len(batch) < READ_BATCH:
            break
        after = batch[-1].seq
        gevent.sleep(0)
    yield from numbering.unfinished()


def search_pattern(query: str) -> re.Pattern:
    """A plain-text, case-insensitive search, as the viewer's search box does it."""
    return re.compile(re.escape(query), re.IGNORECASE)


def search_lines(
    lines: Iterable[Line | Run], pattern: re.Pattern, stream: str, before: int | None, limit: int
) -> tuple[list[Line], int, int]:
    """The last `limit` matching lines (of `stream`, or "all"; numbered below `before`) in order,
    how many match in all, and the pane's line count."""
    found: list[tuple[int, Line | Run, int]] = []  # (n, where, index in a run): no Line for each match
    total = 0
    for item in lines:
        if isinstance(item, Run):
            total += len(item.texts)
            if stream not in ("all", item.stream) or not pattern.search("\n".join(item.texts)):
                continue
            end = len(item.texts) if before is None else max(0, min(len(item.texts), before - item.n))
            found += [(item.n + i, item, i) for i in range(end) if pattern.search(item.texts[i])]
        else:
            total += 1
            if (before is None or item.n < before) and stream in ("all", item.stream) and pattern.search(item.shown()):
                found.append((item.n, item, 0))
    found.sort(key=lambda match: match[0])
    last = [where.line(i) if isinstance(where, Run) else where for _, where, i in found[max(0, len(found) - limit) :]]
    return last, len(found), total


def line_range(lines: Iterable[Line | Run], start: int, end: int) -> tuple[list[Line], int]:
    """The lines numbered `start` to `end` - 1, in order, and the pane's line count."""
    chosen: list[Line] = []
    total = 0
    for item in lines:
        if isinstance(item, Run):
            total += len(item.texts)
            chosen += [item.line(i) for i in range(max(0, start - item.n), min(len(item.texts), end - item.n))]
        else:
            total += 1
            if start <= item.n < end:
                chosen.append(item)
    chosen.sort(key=lambda line: line.n)
    return chosen, total
