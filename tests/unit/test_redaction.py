"""Secrets masked in URLs; control characters escaped in log lines."""

from __future__ import annotations

import io
import logging

import pytest
from boltdeck.redaction import ControlEscapingFormatter, escape_controls, mask_url
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://bd:s3cret@db.local:5432/boltdeck", "postgresql://bd:***@db.local:5432/boltdeck"),
        ("postgresql://:s3cret@h/db", "postgresql://:***@h/db"),  # bug: an empty user hid nothing
        ("postgresql://bd@h/db?password=s3cret&sslmode=require", "postgresql://bd@h/db?password=***&sslmode=require"),
        ("postgresql:///db?host=/run/pg&sslpassword=x", "postgresql:///db?host=/run/pg&sslpassword=***"),
        ("redis://:pw@localhost:6379/0", "redis://:***@localhost:6379/0"),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("sqlite:////var/lib/boltdeck.sqlite3", "sqlite:////var/lib/boltdeck.sqlite3"),
        ("sqlite:///./var/x.sqlite3", "sqlite:///./var/x.sqlite3"),
        ("postgresql://u:a@b@h/db", "postgresql://u:***@h/db"),  # '@' inside the password
    ],
)
def test_redaction_mask_url_hides_every_password(url, shown):
    """Bug (issue 11): /api/health's masking missed `postgresql://:pw@h/db` and `?password=`."""
    assert mask_url(url) == shown


@given(password=st.text(alphabet=st.characters(blacklist_characters="/?#@", blacklist_categories=("Cs",)), min_size=4))
def test_redaction_mask_url_never_shows_the_password(password):
    masked = mask_url(f"postgresql://user:{password}@host/db")
    assert password not in masked.replace("user", "").replace("host", "").replace("postgresql", "").replace("db", "")


def test_redaction_escape_controls_keeps_one_line():
    forged = "alice\n2026-12-01 INFO audit: login ok by admin\x1b[31m\r\u2028"
    escaped = escape_controls(forged)
    assert "\n" not in escaped and "\x1b" not in escaped and "\r" not in escaped and "\u2028" not in escaped
    assert escaped == "alice\\n2026-12-01 INFO audit: login ok by admin\\x1b[31m\\r\\u2028"
    assert escape_controls("plain name é ü") == "plain name é ü"


def test_redaction_formatter_escapes_arguments_but_keeps_tracebacks():
    """Bug (issue 11): the login name went into the server log raw: newlines forged log lines, ANSI passed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ControlEscapingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("failed login for %s", "bob\nINFO forged\x1b[2J")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("crash")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "WARNING failed login for bob\\nINFO forged\\x1b[2J"
    assert lines[1] == "ERROR crash" and lines[2].startswith("Traceback")
