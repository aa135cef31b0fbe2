"""Check a run request against the inventory and task metadata, and turn it into a bolt argv."""

from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

from ..bolt import argv as bolt_argv
from ..bolt.cli import BoltCli
from ..bolt.params_file import params_file
from ..errors import NotFoundError, ValidationError

# Stands in the argv for the params file until the run starts (see `params_handed_over`).
PENDING_PARAMS_FILE = "<params file>"


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
    apply_source: str | None = None  # the manifest path or inline code `bolt apply` applies, for the policy
    noop: bool = False  # a Puppet run that changes nothing (apply and puppet kinds)
    expert_mode: bool = False
    # The task parameters as Bolt gets them, Sensitive ones in clear: kept in memory only,
    # handed to Bolt in a private file while it runs, never stored.
    params: dict[str, Any] | None = dataclasses.field(default=None, repr=False)


@contextmanager
def params_handed_over(plan: Plan) -> Iterator[Plan]:
    """The plan with its parameters in a private file its argv names; the file goes when the block ends."""
    if plan.params is None:
        yield plan
        return
    with params_file(plan.params) as path:
        argv = ["@" + path if arg == "@" + PENDING_PARAMS_FILE else arg for arg in plan.argv]
        yield dataclasses.replace(plan, argv=argv)


class _Run(NamedTuple):
    """One kind of run turned into Bolt's terms."""

    argv: list[str]
    params: dict[str, Any] | None = None
    sensitive: tuple[str, ...] = ()
    shell_command: str | None = None
    task: str | None = None
    apply_source: str | None = None


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
    run = _run_for(kind, request, bolt, bin_path, targets)
    stored = dict(request)
    if kind == "task":  # as Bolt gets them (see TaskMetadata.conform), Sensitive values masked
        stored["params"] = bolt_argv.redacted(run.params or {}, run.sensitive)
    return Plan(
        kind=kind,
        argv=run.argv,
        display=bolt_argv.display(run.argv, run.params, run.sensitive),
        targets=targets,
        expanded_targets=expanded,
        stored_request=stored,
        has_sensitive=bool(set(run.sensitive) & set(request.get("params") or {})),
        shell_command=run.shell_command,
        task=run.task,
        apply_source=run.apply_source,
        noop=bool(request.get("noop")),
        expert_mode=bool(request.get("expertMode")),
        params=run.params,
    )


def _run_for(kind: str, request: dict[str, Any], bolt: BoltCli, bin_path: str, targets: list[str]) -> _Run:
    """The bolt argv of one kind of run, with its task parameters and its shell command or task."""
    project = bolt.project
    if kind == "command":
        command = request["command"]
        argv = bolt_argv.command_run(bin_path, command, targets, project, request.get("runAs"))
        return _Run(argv, shell_command=command)
    if kind == "task":
        name = request["task"]
        params, sensitive = _check_task(bolt, name, request.get("params") or {})
        argv = bolt_argv.task_run(bin_path, name, PENDING_PARAMS_FILE, targets, project)
        return _Run(argv, params, tuple(sensitive), task=name)
    if kind == "puppet":
        command = bolt_argv.puppet_agent_command(
            request.get("noop", False), request.get("environment"), request.get("tags") or (), request.get("debug", False)
        )
        return _Run(bolt_argv.command_run(bin_path, command, targets, project), shell_command=command)
    if kind == "package":
        params = bolt_argv.package_params(request["action"], request["name"], request.get("version"))
        argv = bolt_argv.task_run(bin_path, "package", PENDING_PARAMS_FILE, targets, project)
        return _Run(argv, params, task="package")
    if kind == "apply":
        manifest, code = request.get("manifest"), request.get("code")
        if manifest is not None:
            _check_manifest(project, manifest)
        argv = bolt_argv.apply_run(bin_path, targets, project, manifest, code, bool(request.get("noop")))
        return _Run(argv, apply_source=manifest if manifest is not None else code)
    raise ValidationError(f"unknown execution kind {kind!r}", details={"kind": ["unknown"]})


def _check_manifest(project: str, manifest: str) -> None:
    """A manifest must be a file inside the Bolt project (a symlink may not lead out of it)."""
    root = os.path.realpath(project)
    path = os.path.realpath(os.path.join(root, manifest))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        raise ValidationError(
            f"manifest {manifest!r} is not a file of the Bolt project",
            details={"manifest": [f"not a file of the Bolt project: {manifest}"]},
        )


def _check_task(bolt: BoltCli, name: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The parameters as Bolt must get them, and the names of the Sensitive ones; refuses what Bolt would."""
    try:
        metadata = bolt.task(name)
    except NotFoundError:
        raise ValidationError(
            f"task {name!r} does not exist in the Bolt project", details={"task": [f"unknown task: {name}"]}
        ) from None
    params = metadata.conform(params)
    problems = metadata.check(params)
    if problems:
        first = next(iter(problems.items()))
        raise ValidationError(
            f"invalid parameters for task {name}: {first[0]}: {first[1][0]}",
            details={f"params.{k}": v for k, v in problems.items()},
        )
    return params, metadata.sensitive_names()
