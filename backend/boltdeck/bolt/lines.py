"""Split bolt's output into lines without ever holding a line longer than a bound.

Bolt prints each target's result as one JSON line that repeats all of its output, and a
command may print one enormous line of its own. `LineSplitter` passes a JSON object line
(or list of objects) through `JsonTrimmer` as it arrives (every string cut to the limit before anything is
decoded), keeps only the head of any other line past the limit, and hands every other line
on as it came. Memory per pipe is thus bounded by about twice the limit, whatever bolt prints.
"""

from __future__ import annotations

from typing import Callable

from .jsontrim import JsonTrimmer
from .parser import decode

# A line handler gets the line without its newline and whether anything of it was cut. A
# bytearray line is the handler's own: `take_text` frees it once decoded.
LineHandler = Callable[[bytes | bytearray, bool], None]
# A lines handler gets a run of whole lines, in order, none cut and none a JSON object line:
# those a pipe read completed back to back, handed on in one call (a flood costs per read,
# not per line).
LinesHandler = Callable[[list[bytes]], None]
# Bolt's merged_output repeats stdout and stderr and is read by nobody: not worth a copy.
SKIPPED_KEYS = frozenset({b"merged_output"})
# A cut plain line keeps a little more than the limit, so that its text after the
# `[target] out: ` prefix still exceeds the output cap and the recorder reports the cut.
HEAD_SLACK = 64 * 1024
# A trimmed JSON line keeps its strings (each within the limit) up to two limits in all, and
# this much besides for keys, numbers and the other short strings.
JSON_SLACK = 1024 * 1024
# Keys, target names and statuses must come through whole even under an absurdly small cap
# (the result's output is cut to the cap itself later).
MIN_STRING_LIMIT = 1024


class LineSplitter:
    """Feed chunks of a byte stream in; bounded lines come out to `on_line`.

    A line starting with `{` (a result or error object) or `[{` (a list of results: `bolt apply`'s,
    a plan's returned ResultSet) always goes through the trimmer, which holds only what it keeps; any other line is handed on as it came while within the limit.
    With `on_lines`, the whole short plain lines of a chunk go to it in runs instead, one
    call per run; the other lines still go to `on_line`, in their place.
    """

    def __init__(self, limit: int, on_line: LineHandler, on_lines: LinesHandler | None = None):
        self.limit = limit
        self._on_line = on_line
        self._on_lines = on_lines
        self._buf = bytearray()  # the current plain line (its head, once it is long)
        self._trimmer: JsonTrimmer | None = None  # the current JSON object line
        self._dropped = 0  # bytes cut off the current plain line

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk; every line it completes goes to `on_line` (or, in runs, to `on_lines`)."""
        if b"\n" not in chunk:
            # The middle of a long line, such as Bolt's result line repeating MBs of output:
            # `in` is memchr, while `split` walks byte by byte (85 ms of the 100 MB result
            # line that 50 MB of output makes, half of what splitting and trimming it cost).
            if chunk:
                self._take(chunk)
            return
        *complete, rest = chunk.split(b"\n")  # C speed; `rest` goes on in the next chunk
        fresh = self._at_line_start()
        run: list[bytes] = []  # whole short lines in a row: the common case
        for piece in complete:
            if fresh and len(piece) <= self.limit and not _is_json(piece):
                run.append(piece)
            else:
                if run:
                    self._hand_on(run)
                    run = []
                self._take(piece)
                self._end_line()
            fresh = True
        if run:
            self._hand_on(run)
        if rest:
            self._take(rest)

    def close(self) -> None:
        """End of stream: a last line without a newline is a line too."""
        if not self._at_line_start():
            self._end_line()

    def _hand_on(self, run: list[bytes]) -> None:
        if self._on_lines is not None:
            self._on_lines(run)
        else:
            for line in run:
                self._on_line(line, False)

    def _at_line_start(self) -> bool:
        return not self._buf and self._trimmer is None and not self._dropped

    def _take(self, part: bytes) -> None:
        if self._at_line_start() and _is_json(part):
            strings = max(self.limit, MIN_STRING_LIMIT)
            self._trimmer = JsonTrimmer(strings, 2 * strings + JSON_SLACK, SKIPPED_KEYS)
        if self._trimmer is not None:
            self._trimmer.feed(part)
        else:
            room = max(0, self.limit + HEAD_SLACK - len(self._buf))
            self._buf += part[:room]
            self._dropped += len(part) - min(room, len(part))

    def _end_line(self) -> None:
        if self._trimmer is not None:
            line, cut = self._trimmer.result(), self._trimmer.truncated
        else:
            line, cut = self._buf, self._dropped > 0
        self._buf, self._trimmer, self._dropped = bytearray(), None, 0
        self._on_line(line, cut)


def _is_json(line: bytes) -> bool:
    """A JSON object or list of objects (a chunk may end after the `[`: that line is then plain)."""
    return line[:1] == b"{" or line[:2] == b"[{"


def take_text(line: bytes | bytearray) -> str:
    """Decode a line handed on by `LineSplitter`, freeing its buffer so it is not held twice."""
    text = decode(line)
    if isinstance(line, bytearray):
        line.clear()
    return text
