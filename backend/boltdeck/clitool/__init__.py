"""The `boltdeck` client commands (run, tail, executions, cancel, rerun): a terminal over `boltdeck.client`.

Importing this package costs only argparse: the commands' dependencies (httpx, httpx-sse, rich,
the `client` extra) are imported when a client command runs, so the server never needs them,
and a client without them gets one line naming what to install.
"""

from __future__ import annotations

import argparse
import sys

from .parsers import CLIENT_COMMANDS, add_client_commands

CLIENT_DEPENDENCIES = frozenset({"httpx", "httpx_sse", "rich"})
EXIT_USAGE = 2

__all__ = ["CLIENT_COMMANDS", "add_client_commands", "run_client_command"]


def run_client_command(args: argparse.Namespace) -> int:
    """Run a parsed client command; its exit status."""
    try:
        from .commands import run
    except ImportError as exc:
        if exc.name not in CLIENT_DEPENDENCIES:
            raise
        print(
            f"boltdeck: `boltdeck {args.command}` needs the client's libraries (missing: {exc.name}): "
            "pip install 'boltdeck[client]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return run(args)
