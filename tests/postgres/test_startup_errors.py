"""A database URL that cannot work stops `boltdeck db upgrade` and `boltdeck serve` with one line
that names BOLTDECK_DATABASE_URL and says what is wrong, and never shows the password."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..pg import fresh_database_url, free_port, with_database

PASSWORD = "Sup3r-s3cret-pw"
# Run as the `boltdeck` command with psycopg absent, as after `pip install boltdeck` without the extra.
WITHOUT_PSYCOPG = "import sys; sys.modules['psycopg'] = None; from boltdeck.cli import main; sys.exit(main())"


def _boltdeck(database_url: str, *args: str, program: tuple[str, ...] = ("-m", "boltdeck")) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_")}
    env["BOLTDECK_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, *program, *args], env=env, capture_output=True, text=True, timeout=60)


def _refused(done: subprocess.CompletedProcess) -> str:
    """The one line the command printed when it refused to start."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("boltdeck: ") and done.stderr.count("\n") == 1, done.stderr
    assert "BOLTDECK_DATABASE_URL" in done.stderr and PASSWORD not in done.stderr + done.stdout, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    "url, says",
    [
        (f"mysql://deck:{PASSWORD}@127.0.0.1/boltdeck", "must be a sqlite:/// or postgresql:// URL"),
        (f"postgresql+psycopg2://deck:{PASSWORD}@127.0.0.1/boltdeck", "Boltdeck uses psycopg 3"),
        (f"postgresql://deck:{PASSWORD}@127.0.0.1:port/boltdeck", "is not a valid database URL"),
    ],
    ids=["unknown scheme", "another driver", "no port number"],
)
def test_a_url_boltdeck_cannot_use_is_refused(url, says):
    assert says in _refused(_boltdeck(url, "db", "upgrade"))


def test_without_psycopg_the_error_says_which_extra_to_install():
    done = _boltdeck(f"postgresql://deck:{PASSWORD}@127.0.0.1/boltdeck", "db", "upgrade", program=("-c", WITHOUT_PSYCOPG))
    assert "pip install 'boltdeck[postgres]'" in _refused(done)


@pytest.mark.parametrize("command", [("db", "upgrade"), ("serve", "--port", "0"), ("users", "list")])
def test_an_unreachable_server_is_refused_naming_the_setting(command):
    line = _refused(_boltdeck(f"postgresql://deck:{PASSWORD}@127.0.0.1:{free_port()}/boltdeck", *command))
    assert "cannot open the database" in line and "Connection refused" in line and "deck:***@" in line


def test_refused_credentials_and_a_missing_database_are_refused_naming_the_setting():
    url = fresh_database_url()  # a live server; a role it does not know is refused however it authenticates
    host = url.split("@", 1)[1].split("/", 1)[0]
    line = _refused(_boltdeck(f"postgresql://nobody_here:{PASSWORD}@{host}/postgres", "db", "upgrade"))
    assert "cannot open the database" in line and '"nobody_here"' in line
    line = _refused(_boltdeck(with_database(url, "no_such_database"), "db", "upgrade"))
    assert 'database "no_such_database" does not exist' in line
