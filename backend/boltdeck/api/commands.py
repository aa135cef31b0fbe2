"""POST /api/commands: run a shell command on targets."""

from flask import Blueprint

from ..schemas import CommandRunSchema
from .runs import start_run

bp = Blueprint("commands", __name__, url_prefix="/api")


@bp.post("/commands")
def run_command():
    return start_run("command", CommandRunSchema())
