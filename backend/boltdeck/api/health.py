"""GET /api/health: is the server up, is Bolt there, is the database reachable."""

from flask import Blueprint

from .. import __version__
from ..extensions import services
from ..redaction import mask_url
from .auth import principal, requires

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
@requires("public")
def health():
    found = services()
    path = found.bolt.path()
    version = found.bolt.version() if path else None
    database_ok = found.store.ping()
    bolt = {
        "available": bool(path and version),
        "path": path,
        "version": version,
        "setting": "BOLTDECK_BOLT_BIN",
        "configured": found.settings.bolt_bin,
        "project": found.settings.bolt_project,
    }
    if not path:
        bolt["problem"] = f"bolt executable {found.settings.bolt_bin!r} not found; set BOLTDECK_BOLT_BIN"
    elif not version:
        bolt["problem"] = f"{path} did not answer `bolt --version`"
    status = "ok" if bolt["available"] and database_ok else "degraded"
    if principal() is None:  # strangers (load balancers) learn whether it works, not where things are
        return {"status": status, "bolt": {"available": bolt["available"]}, "database": {"ok": database_ok}}
    return {
        "status": status,
        "version": __version__,
        "bolt": bolt,
        "database": {"ok": database_ok, "url": mask_url(found.store.url)},
    }
