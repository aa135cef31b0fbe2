"""POST /api/commands: run a shell command on targets."""

from flask import Blueprint

from ..schemas import CommandRunSchema
from .auth import requires
from .runs import start_run

bp = Blueprint("commands", __name__, url_prefix="/api")


@bp.post("/commands")
@requires("run")
def run_command():
    return start_run("command", CommandRunSchema())
