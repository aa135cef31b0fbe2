"""POST /api/puppet/runs: a Puppet agent run on targets."""

from flask import Blueprint

from ..schemas import PuppetRunSchema
from .auth import requires
from .runs import start_run

bp = Blueprint("puppet", __name__, url_prefix="/api/puppet")


@bp.post("/runs")
@requires("run")
def run_puppet():
    return start_run("puppet", PuppetRunSchema())
