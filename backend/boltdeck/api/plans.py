"""Bolt plans: the list, one plan's metadata, and POST /api/plans/run."""

from flask import Blueprint
from werkzeug.routing import BaseConverter

from ..errors import NotFoundError
from ..extensions import services
from ..schemas import PlanRunSchema
from .auth import requires
from .runs import start_run

bp = Blueprint("plans", __name__, url_prefix="/api/plans")


@bp.get("")
@requires("read")
def list_plans():
    """The project's public plans (Bolt itself leaves out those marked `@api private`)."""
    return {"plans": services().bolt.plan_list()}


class PlanNameConverter(BaseConverter):
    """A Bolt plan name in a URL; `run` is taken by POST /api/plans/run."""

    regex = r"(?!run$)[a-z][a-z0-9_]*(?:::[a-z][a-z0-9_]*)*"


@bp.get("/<plan:name>")
@requires("read")
def show_plan(name: str):
    metadata = services().bolt.plan(name)
    if metadata.private:  # only other plans may run it: to the API it does not exist
        raise NotFoundError(f"plan {name!r} does not exist in the Bolt project", details={"plan": name})
    return metadata.to_dict()


@bp.post("/run")
@requires("run")
def run_plan():
    return start_run("plan", PlanRunSchema())
