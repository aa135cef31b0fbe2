"""Tasks: the list, one task's metadata, and POST /api/tasks/run."""

from flask import Blueprint

from ..bolt.argv import TASK_NAME
from ..errors import NotFoundError
from ..extensions import services
from ..schemas import TaskRunSchema
from .runs import start_run

bp = Blueprint("tasks", __name__, url_prefix="/api/tasks")


@bp.get("")
def list_tasks():
    return {"tasks": services().bolt.task_list()}


@bp.get("/<name>")
def show_task(name: str):
    if not TASK_NAME.match(name):
        raise NotFoundError(f"task {name!r} does not exist", details={"task": name})
    return services().bolt.task(name).to_dict()


@bp.post("/run")
def run_task():
    return start_run("task", TaskRunSchema())
