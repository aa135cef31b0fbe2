"""Check a run request against the inventory and task metadata, and turn it into a bolt argv."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..bolt import argv as bolt_argv
from ..bolt.cli import BoltCli
from ..errors import NotFoundError, ValidationError


@dataclass(frozen=True)
class Plan:
    """What to run: the argv, how to show it, which targets must report, what to store."""

    kind: str
    argv: list[str]
    display: str
    targets: list[str]
    expanded_targets: list[str]
    stored_request: dict[str, Any]
    has_sensitive: bool = False
    shell_command: str | None = None  # what `bolt command run` runs on the targets, for the policy
    task: str | None = None  # the task `bolt task run` runs, for the policy
    expert_mode: bool = False


def make_plan(kind: str, request: dict[str, Any], bolt: BoltCli) -> Plan:
    """Validate a (schema-checked) request semantically and build its plan; raises ValidationError."""
    bin_path = bolt.require_path()
    targets = list(dict.fromkeys(request["targets"]))
    inventory = bolt.inventory()
    unknown = inventory.unknown_names(targets)
    if unknown:  # the cached inventory may predate an edit: look again before refusing
        inventory = bolt.inventory(fresh=True)
        unknown = inventory.unknown_names(targets)
    if unknown:
        raise ValidationError(
            f"unknown target or group: {', '.join(unknown)} (not in the Bolt inventory)",
            details={"targets": [f"not an inventory target, alias or group: {name}" for name in unknown]},
        )
    expanded = inventory.expand(targets)
    if not expanded:
        raise ValidationError("the targets name no inventory target", details={"targets": ["selects no target"]})
    argv, sensitive, shell_command, task = _argv_for(kind, request, bolt, bin_path, targets)
    stored = dict(request)
    if sensitive and request.get("params"):
        stored["params"] = {k: (bolt_argv.REDACTED if k in sensitive else v) for k, v in request["params"].items()}
    return Plan(
        kind=kind,
        argv=argv,
        display=bolt_argv.display(argv, sensitive),
        targets=targets,
        expanded_targets=expanded,
        stored_request=stored,
        has_sensitive=bool(sensitive and set(sensitive) & set(request.get("params") or {})),
        shell_command=shell_command,
        task=task,
        expert_mode=bool(request.get("expertMode")),
    )


def _argv_for(
    kind: str, request: dict[str, Any], bolt: BoltCli, bin_path: str, targets: list[str]
) -> tuple[list[str], list[str], str | None, str | None]:
    """The bolt argv of one kind of run, its Sensitive parameters, and its shell command or task."""
    project = bolt.project
    if kind == "command":
        command = request["command"]
        return bolt_argv.command_run(bin_path, command, targets, project, request.get("runAs")), [], command, None
    if kind == "task":
        params = request.get("params") or {}
        sensitive = _check_task(bolt, request["task"], params)
        return bolt_argv.task_run(bin_path, request["task"], params, targets, project), sensitive, None, request["task"]
    if kind == "puppet":
        command = bolt_argv.puppet_agent_command(
            request.get("noop", False), request.get("environment"), request.get("tags") or (), request.get("debug", False)
        )
        return bolt_argv.command_run(bin_path, command, targets, project), [], command, None
    if kind == "package":
        params = bolt_argv.package_params(request["action"], request["name"], request.get("version"))
        return bolt_argv.task_run(bin_path, "package", params, targets, project), [], None, "package"
    raise ValidationError(f"unknown execution kind {kind!r}", details={"kind": ["unknown"]})


def _check_task(bolt: BoltCli, name: str, params: dict[str, Any]) -> list[str]:
    try:
        metadata = bolt.task(name)
    except NotFoundError:
        raise ValidationError(
            f"task {name!r} does not exist in the Bolt project", details={"task": [f"unknown task: {name}"]}
        ) from None
    problems = metadata.check(params)
    if problems:
        first = next(iter(problems.items()))
        raise ValidationError(
            f"invalid parameters for task {name}: {first[0]}: {first[1][0]}",
            details={f"params.{k}": v for k, v in problems.items()},
        )
    return metadata.sensitive_names()
