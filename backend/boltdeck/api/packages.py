"""POST /api/packages: a package action through Bolt's `package` task."""

from flask import Blueprint

from ..schemas import PackageRunSchema
from .auth import requires
from .runs import start_run

bp = Blueprint("packages", __name__, url_prefix="/api")


@bp.post("/packages")
@requires("run")
def run_package():
    return start_run("package", PackageRunSchema())
