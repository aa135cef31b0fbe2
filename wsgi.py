"""WSGI entry point for gevent-based servers (gevent patching first, then the app).

    boltdeck db upgrade                          (once, before any worker starts)
    gunicorn --config deploy/gunicorn.conf.py    (gevent workers, each loads `wsgi:app`)

Each process that imports this module creates the app and joins the workers sharing the store
(`startup`). Migrate the schema with `boltdeck db upgrade` before the workers start, not in
each of them at once.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "backend"))  # a checkout, not installed

from boltdeck import create_app, startup  # noqa: E402

app = create_app(upgrade_schema=False)  # migrating is `boltdeck db upgrade`'s job
startup(app)
