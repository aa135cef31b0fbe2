"""Inventory: targets and groups, one target's detail, and its gathered facts."""

from contextlib import contextmanager
from typing import Iterator

from flask import Blueprint

from ..errors import BoltdeckError, NotFoundError, RateLimitedError
from ..extensions import services
from .auth import audit, requires, user_name

bp = Blueprint("inventory", __name__, url_prefix="/api")


def _target(name: str):
    inventory = services().bolt.inventory()
    resolved = inventory.expand([name]) if name in inventory.aliases or name in inventory.targets else []
    if not resolved:
        raise NotFoundError(f"target {name!r} is not in the inventory", details={"target": name})
    return inventory.targets[resolved[0]]


@bp.get("/inventory")
@requires("read")
def show_inventory():
    return services().bolt.inventory().describe()


@bp.get("/inventory/targets/<name>")
@requires("read")
def show_target(name: str):
    return _target(name).detail()


@bp.get("/targets/<name>/facts")
@requires("read")
def show_facts(name: str):
    target = _target(name)
    return {"target": target.name, "facts": services().bolt.facts(target.name, lambda: _gathering(target.name))}


@contextmanager
def _gathering(target: str) -> Iterator[None]:
    """Admit a facts gathering (a bolt run on the target) against the user's rate, and audit it."""
    try:
        services().facts_limits.take(user_name() or "")
    except RateLimitedError as exc:
        audit("facts", outcome="denied", target=target, reason=exc.message)
        raise
    try:
        yield
    except BoltdeckError as exc:
        audit("facts", outcome="failed", target=target, reason=exc.message)
        raise
    audit("facts", target=target)
