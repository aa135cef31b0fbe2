"""Keep secrets and forged lines out of what Boltdeck shows and logs."""

from __future__ import annotations

import logging
import re

MASK = "***"
# Query parameters that carry a secret in database and broker URLs (libpq, psycopg, redis-py, ...).
SECRET_QUERY_KEYS = re.compile(r"pass|pwd|secret|token|key|credential", re.IGNORECASE)
_SECRET_QUERY_VALUE = re.compile(r"([?&]([^=&#]*)=)[^&#]*")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: each could end a log
# line early, forge another one, or drive a terminal (ANSI escapes).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def mask_url(url: str) -> str:
    """The URL with its password (in the authority or the query) replaced by ***; all else as given."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        authority = f"{user}:{MASK}@{host}" if has_password else authority
    return f"{scheme}://{authority}{_SECRET_QUERY_VALUE.sub(_mask_value, tail)}"


def _mask_value(match: re.Match) -> str:
    return match.group(1) + MASK if SECRET_QUERY_KEYS.search(match.group(2)) else match.group(0)


def escape_controls(text: str) -> str:
    """Control characters as visible escapes (`\\n`, `\\x1b`, `\\u2028`): one log record, one line."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match) -> str:
    char = match.group()
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


class ControlEscapingFormatter(logging.Formatter):
    """Escape control characters in each record's message, so client input cannot forge log lines.

    Tracebacks (formatted after the message) keep their line breaks.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))
