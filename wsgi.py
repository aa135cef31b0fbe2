"""WSGI entry point for gevent-based servers (gevent patching first, then the app)."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "backend"))

from boltdeck import create_app, startup  # noqa: E402

app = create_app()
startup(app)
