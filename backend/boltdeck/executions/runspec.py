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
from ..bolt.plans import PlanMetadata
from ..errors import ConflictError, NotFoundError, ValidationError

# Stands in the argv for the params file until the run starts (see `params_handed_over`).
PENDING_PARAMS_FILE = "<params file>"


@dataclass(frozen=True)
class RunSpec:
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
    plan: str | None = None  # the plan `bolt plan run` runs, for the policy
    apply_source: str | None = None  # the manifest path or inline code `bolt apply` applies, for the policy
    noop: bool = False  # a Puppet run that changes nothing (apply and puppet kinds)
    expert_mode: bool = False
    sensitive: tuple[str, ...] = ()  # the names of the Sensitive parameters (a task's or a plan's)
    # The task parameters as Bolt gets them, Sensitive ones in clear: kept in memory only,
    # handed to Bolt in a private file while it runs, never stored.
    params: dict[str, Any] | None = dataclasses.field(default=None, repr=False)


@contextmanager
def params_handed_over(spec: RunSpec) -> Iterator[RunSpec]:
    """The spec with its parameters in a private file its argv names; the file goes when the block ends."""
    if spec.params is None:
        yield spec
        return
    with params_file(spec.params) as path:
        argv = ["@" + path if arg == "@" + PENDING_PARAMS_FILE else arg for arg in spec.argv]
        yield dataclasses.replace(spec, argv=argv)


class _Run(NamedTuple):
    """One kind of run turned into Bolt's terms."""

    argv: list[str]
    params: dict[str, Any] | None = None
    sensitive: tuple[str, ...] = ()
    shell_command: str | None = None
    task: str | None = None
    apply_source: str | None = None


def make_run_spec(kind: str, request: dict[str, Any], bolt: BoltCli) -> RunSpec:
    """Validate a (schema-checked) request semantically and build its run spec; raises ValidationError."""
    bin_path = bolt.require_path()
    if kind == "plan":
        return _plan_spec(request, bolt, bin_path)
    targets = list(dict.fromkeys(request["targets"]))
    expanded = _expanded(bolt, targets, "targets")
    run = _run_for(kind, request, bolt, bin_path, targets)
    stored = dict(request)
    if kind == "task":  # as Bolt gets them (see TaskMetadata.conform), Sensitive values masked
        stored["params"] = bolt_argv.redacted(run.params or {}, run.sensitive)
    return RunSpec(
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
        sensitive=run.sensitive,
        params=run.params,
    )


def _expanded(bolt: BoltCli, names: list[str], field: str) -> list[str]:
    """The inventory targets `names` select; a name the inventory lacks is a 400 on `field`."""
    inventory = bolt.inventory()
    unknown = inventory.unknown_names(names)
    if unknown:  # the cached inventory may predate an edit: look again before refusing
        inventory = bolt.inventory(fresh=True)
        unknown = inventory.unknown_names(names)
    if unknown:
        raise ValidationError(
            f"unknown target or group: {', '.join(unknown)} (not in the Bolt inventory)",
            details={field: [f"not an inventory target, alias or group: {name}" for name in unknown]},
        )
    expanded = inventory.expand(names)
    if not expanded:
        raise ValidationError(f"{field} names no inventory target", details={field: ["selects no target"]})
    return expanded


def _plan_spec(request: dict[str, Any], bolt: BoltCli, bin_path: str) -> RunSpec:
    """`bolt plan run`: every parameter checked against the plan's metadata, every TargetSpec
    against the inventory; `targets` fills the plan's TargetSpec parameter (see `plan_targets_parameter`)."""
    name = request["plan"]
    metadata = plan_metadata(bolt, name)
    params = dict(request.get("params") or {})
    holder = None
    if "targets" in request:
        holder = plan_targets_parameter(metadata, name)
        if holder in params:
            raise ValidationError(
                f"the targets are given twice: in targets and in params.{holder}",
                details={"targets": [f"given twice: also as params.{holder}"]},
            )
        params[holder] = list(request["targets"])
    params = metadata.conform(params)
    problems = metadata.check(params)
    if problems:
        field, messages = next(iter(problems.items()))
        field = "targets" if field == holder else f"params.{field}"
        raise ValidationError(
            f"invalid parameters for plan {name}: {field}: {messages[0]}",
            details={("targets" if k == holder else f"params.{k}"): v for k, v in problems.items()},
        )
    targets: list[str] = []
    expanded: list[str] = []
    for parameter in metadata.target_spec_names():
        names = target_names(params.get(parameter))
        if names:
            targets += names
            expanded += _expanded(bolt, names, "targets" if parameter == holder else f"params.{parameter}")
    sensitive = tuple(metadata.sensitive_names())
    argv = bolt_argv.plan_run(bin_path, name, PENDING_PARAMS_FILE, bolt.project)
    stored = {**request, "params": bolt_argv.redacted(request.get("params") or {}, sensitive)}
    return RunSpec(
        kind="plan",
        argv=argv,
        display=bolt_argv.display(argv, params, sensitive),
        targets=list(dict.fromkeys(targets)),
        expanded_targets=list(dict.fromkeys(expanded)),
        stored_request=stored,
        has_sensitive=bool(set(sensitive) & set(params)),
        sensitive=sensitive,
        plan=name,
        expert_mode=bool(request.get("expertMode")),
        params=params,
    )


def narrowed_plan_request(request: dict[str, Any], failed: list[str], bolt: BoltCli) -> dict[str, Any]:
    """A plan's request for a re-run on its failed targets: they fill the plan's TargetSpec parameter.

    A plan without one cannot be narrowed (409): it decides its targets itself.
    """
    metadata = plan_metadata(bolt, request["plan"])
    holder = metadata.targets_parameter()
    if holder is None:
        raise ConflictError(
            f"plan {request['plan']} has no single TargetSpec parameter to narrow to the failed targets: "
            "re-run it whole (scope all)",
            code="not_narrowable",
            details={"scope": ["the plan takes no single TargetSpec parameter"]},
        )
    params = {k: v for k, v in (request.get("params") or {}).items() if k != holder}
    return {**request, "params": params, "targets": failed}


def plan_metadata(bolt: BoltCli, name: str) -> PlanMetadata:
    """A public plan's metadata; an unknown or private plan is a 400 on `plan`."""
    try:
        metadata = bolt.plan(name)
    except NotFoundError:
        raise ValidationError(
            f"plan {name!r} does not exist in the Bolt project", details={"plan": [f"unknown plan: {name}"]}
        ) from None
    if metadata.private:
        raise ValidationError(
            f"plan {name!r} is private (`@api private`): only other plans may run it",
            details={"plan": [f"private plan: {name}"]},
        )
    return metadata


def plan_targets_parameter(metadata: PlanMetadata, name: str) -> str:
    """The parameter `targets` fills: the plan's TargetSpec parameter named `targets`, else its only one."""
    holder = metadata.targets_parameter()
    if holder is None:
        raise ValidationError(
            f"plan {name} has no TargetSpec parameter that targets could fill: give its parameters in params",
            details={"targets": ["the plan takes no single TargetSpec parameter"]},
        )
    return holder


def target_names(value: Any) -> list[str]:
    """The target names of a TargetSpec value from JSON: a string (commas allowed) or nested lists of them."""
    pending, names = [value], []
    while pending:
        item = pending.pop(0)
        if isinstance(item, str):
            names += [part.strip() for part in item.split(",") if part.strip()]
        elif isinstance(item, list):
            pending = [*item, *pending]
    return list(dict.fromkeys(names))


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
