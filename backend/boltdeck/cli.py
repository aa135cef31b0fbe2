"""The `boltdeck` command: `boltdeck serve [--host H] [--port P]`.

This is an entry point, so gevent patches the standard library here, first thing in main(),
before anything else is imported; the package itself never patches on import.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from gevent import monkey

    monkey.patch_all()
    parser = argparse.ArgumentParser(prog="boltdeck", description="Web console and HTTP API for Puppet Bolt")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web UI and API with gevent")
    serve.add_argument("--host", help="address to listen on (default BOLTDECK_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default BOLTDECK_PORT or 8000)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        from .server import serve as run_server

        return run_server(args.host, args.port)
    return 2


if __name__ == "__main__":
    sys.exit(main())
