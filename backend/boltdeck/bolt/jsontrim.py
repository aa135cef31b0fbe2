"""Cut the string values of a JSON text while it streams in, before anything is decoded.

Bolt's result line repeats a target's whole output (stdout, stderr and merged_output), so a
command printing 1 GB yields a line of 2 GB or more. `JsonTrimmer` copies such a line chunk
by chunk and keeps at most `limit` raw bytes of each string, cut on a whole escape sequence,
UTF-8 character and surrogate pair, so what it keeps still parses and no string decodes to
more than `limit` bytes. It scans with `bytes.find` (C speed), never with a loop per byte.
"""

from __future__ import annotations

import re

# The body of a JSON string up to its closing quote (or the chunk's end); C speed, escapes too.
_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)
_QUOTE_TRIES = 8  # escaped quotes looked at one by one before the regex takes over
_KEY_GAP = 16  # at most this many bytes between a key's closing quote and its value's opening one
_KEY_MAX = 64  # longer strings are never among `skip_keys`


class JsonTrimmer:
    """Copy one JSON text fed in chunks, keeping at most `limit` raw bytes of every string.

    String values of the object keys in `skip_keys` are emptied without counting as a cut
    (Bolt's `merged_output` repeats stdout and stderr and is read by nobody). At most
    `max_bytes` are kept in all; past that the copy stops and `overflowed` is set.
    """

    def __init__(self, limit: int, max_bytes: int | None = None, skip_keys: frozenset[bytes] = frozenset()):
        self.limit = limit
        self.max_bytes = max_bytes
        self.skip_keys = skip_keys
        self.truncated = False  # some string lost bytes (or the text overflowed)
        self.overflowed = False
        self._out = bytearray()
        self._in_string = False
        self._room = 0  # raw bytes the current string may still keep
        self._silent = False  # the current string is emptied without it counting as a cut
        self._dropping = False  # the current string was cut: the rest of it is skipped
        self._escaped = False  # the last chunk ended inside the current string on a backslash
        self._string_start = 0  # index in _out of the current (or last) string's opening quote
        self._string_end = -1  # index in _out just after the last string's closing quote

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the text."""
        pos = 0
        while pos < len(chunk) and not self.overflowed:
            pos = self._string_part(chunk, pos) if self._in_string else self._between_strings(chunk, pos)

    def result(self) -> bytearray:
        """The text kept (not copied: the trimmer is spent afterwards)."""
        kept, self._out = self._out, bytearray()
        return kept

    def _between_strings(self, chunk: bytes, pos: int) -> int:
        """Copy up to and including the next opening quote; return where to go on."""
        quote = chunk.find(b'"', pos)
        if quote < 0:
            self._keep(memoryview(chunk)[pos:])
            return len(chunk)
        self._keep(memoryview(chunk)[pos:quote])
        key = self._key_before()
        self._string_start = len(self._out)
        self._keep(b'"')
        self._in_string = True
        self._escaped = False
        self._silent = key in self.skip_keys
        self._dropping = False
        self._room = 0 if self._silent else self.limit
        return quote + 1

    def _key_before(self) -> bytes:
        """The key whose value starts here, or b"" when the text before is not `"key":`."""
        gap = len(self._out) - self._string_end
        if self._string_end < 0 or gap > _KEY_GAP or self._string_end - self._string_start - 2 > _KEY_MAX:
            return b""
        if bytes(self._out[self._string_end :]).strip() != b":":
            return b""
        return bytes(self._out[self._string_start + 1 : self._string_end - 1])

    def _string_part(self, chunk: bytes, pos: int) -> int:
        """Keep what room allows of the string up to its closing quote or the chunk's end."""
        close = self._closing_quote(chunk, pos)
        end = len(chunk) if close < 0 else close
        if end - pos <= self._room:
            self._keep(memoryview(chunk)[pos:end])
            self._room -= end - pos
        else:
            self._cut(memoryview(chunk)[pos:end])
        if close < 0:
            return end
        self._keep(b'"')
        self._in_string = False
        self._string_end = len(self._out)
        return close + 1

    def _cut(self, part: memoryview) -> None:
        """Keep the head that fits, ending on a whole escape and character; drop the rest."""
        if not self._dropping:
            self._keep(part[: self._room])
            del self._out[safe_cut(self._out, self._string_start + 1, len(self._out)) :]
            self._room, self._dropping = 0, True
        self.truncated = self.truncated or not self._silent

    def _closing_quote(self, chunk: bytes, pos: int) -> int:
        """Index of the quote ending the current string, -1 when it is not in this chunk."""
        start = pos + 1 if self._escaped else pos  # that byte is the second half of an escape
        quote = chunk.find(b'"', start)
        for _ in range(_QUOTE_TRIES):  # memchr, and a look at the backslashes before each quote
            if quote < 0 or _trailing_backslashes(chunk, start, quote, 0) % 2 == 0:
                end = len(chunk) if quote < 0 else quote
                self._escaped = quote < 0 and _trailing_backslashes(chunk, start, end, 0) % 2 == 1
                return quote
            quote = chunk.find(b'"', quote + 1)
        end = _STRING_BODY.match(chunk, start).end()  # many escaped quotes: the regex walks them
        self._escaped = end < len(chunk) and chunk[end] != ord('"')  # stopped before a lone backslash
        return end if end < len(chunk) and not self._escaped else -1

    def _keep(self, part: bytes | memoryview) -> None:
        if self.max_bytes is not None and len(self._out) + len(part) > self.max_bytes:
            self._out += part[: self.max_bytes - len(self._out)]
            self.overflowed = self.truncated = True
        else:
            self._out += part


def _trailing_backslashes(data: bytes | bytearray, start: int, end: int, carried: int) -> int:
    """How many backslashes end data[start:end], counting `carried` ones just before `start`.

    Looks back through growing windows with `rstrip`, so a long run costs C time, not a loop.
    """
    count, window = 0, 64
    while True:
        low = max(start, end - count - window)
        piece = data[low : end - count]
        run = len(piece) - len(piece.rstrip(b"\\"))
        count += run
        if run < len(piece):
            return count
        if low == start:
            return count + carried
        window *= 4


def safe_cut(buf: bytes | bytearray, start: int, end: int) -> int:
    """The largest index <= end where the JSON string content buf[start:end] may be cut.

    Never inside an escape sequence, a UTF-8 character, or a UTF-16 surrogate pair.
    """
    cut = _cut_step(buf, start, end)
    while cut != end:  # dropping a split escape may leave a high surrogate at the end: look again
        end, cut = cut, _cut_step(buf, start, cut)
    return cut


def _cut_step(buf: bytes | bytearray, start: int, end: int) -> int:
    """Step back over one split character, split escape or lone high surrogate at `end`."""
    i = end
    while i > start and end - i < 3 and 0x80 <= buf[i - 1] < 0xC0:
        i -= 1  # step back over continuation bytes to the character's first byte
    if i > start and buf[i - 1] >= 0xC0:
        lead = i - 1
        length = 2 if buf[lead] < 0xE0 else 3 if buf[lead] < 0xF0 else 4
        return lead if end - lead < length else end
    if i < end:
        return end  # continuation bytes without a first byte: invalid UTF-8 in the source, kept
    escape = buf.rfind(b"\\", max(start, end - 6), end)
    if escape < 0 or _trailing_backslashes(buf, start, escape + 1, 0) % 2 == 0:
        return end  # no escape near the end, or its last backslash is the second of a pair
    if escape + 1 == end or buf[escape + 1] != ord("u"):
        return escape if escape + 1 == end else end
    if end - escape < 6 or b"d800" <= bytes(buf[escape + 2 : escape + 6]).lower() < b"dc00":
        return escape  # a split \uXXXX, or a high surrogate whose low half would be lost
    return end


def trim_json(text: bytes, limit: int, max_bytes: int | None = None) -> tuple[bytearray, bool]:
    """Trim a whole JSON text at once; returns the kept text and whether anything was cut."""
    trimmer = JsonTrimmer(limit, max_bytes)
    trimmer.feed(text)
    return trimmer.result(), trimmer.truncated
