"""POST /api/apply/runs: `bolt apply` of a Bolt project manifest or inline Puppet code."""

from flask import Blueprint

from ..schemas.requests import ApplyRunSchema
from .auth import requires
from .runs import start_run

bp = Blueprint("apply", __name__, url_prefix="/api/apply")


@bp.post("/runs")
@requires("run")
def run_apply():
    return start_run("apply", ApplyRunSchema())
