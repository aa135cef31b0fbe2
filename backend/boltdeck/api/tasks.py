"""Tasks: the list, one task's metadata, and POST /api/tasks/run."""

from flask import Blueprint
from werkzeug.routing import BaseConverter

from ..extensions import services
from ..schemas import TaskRunSchema
from .auth import requires
from .runs import start_run

bp = Blueprint("tasks", __name__, url_prefix="/api/tasks")


@bp.get("")
@requires("read")
def list_tasks():
    return {"tasks": services().bolt.task_list()}


class TaskNameConverter(BaseConverter):
    """A Bolt task name in a URL; `run` is taken by POST /api/tasks/run."""

    regex = r"(?!run$)[a-z][a-z0-9_]*(?:::[a-z][a-z0-9_]*)*"


@bp.get("/<task:name>")
@requires("read")
def show_task(name: str):
    return services().bolt.task(name).to_dict()


@bp.post("/run")
@requires("run")
def run_task():
    return start_run("task", TaskRunSchema())
