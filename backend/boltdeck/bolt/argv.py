"""Build bolt argv lists (never shell strings) for every kind of run Boltdeck starts."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Iterable, Sequence

# Patterns for values that end up inside a shell command on the target (Puppet options).
PUPPET_ENVIRONMENT = re.compile(r"^[a-z0-9_]{1,64}$")
PUPPET_TAG = re.compile(r"^[a-z0-9_][a-z0-9_:.\-]{0,127}$")
TASK_NAME = re.compile(r"^[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*$")
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_:\-]*$")
RUN_AS_USER = re.compile(r"^[a-z_][a-z0-9_\-]{0,31}$")
# A manifest of the Bolt project: a relative path of plain names ending in .pp (no `..`, no option).
MANIFEST_PATH = re.compile(r"^(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_][A-Za-z0-9_./-]*\.pp$")
REDACTED = "Sensitive [value redacted]"


def run_flags(targets: Sequence[str], project: str) -> list[str]:
    """Flags every execution carries: targets, JSON format, live stream, no rerun file, the project."""
    return [
        "--targets", ",".join(targets),
        "--format", "json",
        "--stream",
        "--no-save-rerun",
        "--project", project,
    ]  # fmt: skip


def command_run(bolt: str, command: str, targets: Sequence[str], project: str, run_as: str | None = None) -> list[str]:
    argv = [bolt, "command", "run", command, *run_flags(targets, project)]
    if run_as:
        argv += ["--run-as", run_as]
    return argv


def task_run(bolt: str, task: str, params_file: str, targets: Sequence[str], project: str) -> list[str]:
    """Task parameters go in a JSON file (see params_file): their types reach the task exactly, and
    their values stay out of every process's argv."""
    return [bolt, "task", "run", task, "--params", "@" + params_file, *run_flags(targets, project)]


def apply_run(
    bolt: str, targets: Sequence[str], project: str, manifest: str | None = None, code: str | None = None, noop: bool = False
) -> list[str]:
    """`bolt apply` of a manifest file (relative to the project) or of inline code (`-e`)."""
    source = [manifest] if manifest is not None else ["--execute", code or ""]
    return [bolt, "apply", *source, *run_flags(targets, project), *(["--noop"] if noop else [])]


def puppet_agent_command(
    noop: bool = False, environment: str | None = None, tags: Iterable[str] = (), debug: bool = False
) -> str:
    """The shell command Bolt runs on each target for a Puppet agent run (values pre-validated)."""
    words = ["puppet", "agent", "--test", "--color=false", "--detailed-exitcodes"]
    if noop:
        words.append("--noop")
    if environment:
        words += ["--environment", environment]
    tags = list(tags)
    if tags:
        words += ["--tags", ",".join(tags)]
    if debug:
        words.append("--debug")
    return " ".join(shlex.quote(w) for w in words)


def package_params(action: str, name: str, version: str | None = None) -> dict[str, str]:
    params = {"action": action, "name": name}
    if version:
        params["version"] = version
    return params


def inventory_show(bolt: str, project: str) -> list[str]:
    return [bolt, "inventory", "show", "--targets", "all", "--detail", "--format", "json", "--project", project]


def task_show(bolt: str, project: str, task: str | None = None) -> list[str]:
    return [bolt, "task", "show", *([task] if task else []), "--format", "json", "--project", project]


def plan_show(bolt: str, project: str, name: str | None = None) -> list[str]:
    return [bolt, "plan", "show", *([name] if name else []), "--format", "json", "--project", project]


def plan_run(bolt: str, name: str, params_file: str, project: str) -> list[str]:
    """Every plan parameter (its TargetSpec ones too) goes in the params file; `--log-level info`
    makes Bolt log each step (see plan_steps), `--stream` each target's output as it comes."""
    return [
        bolt, "plan", "run", name,
        "--params", "@" + params_file,
        "--format", "json",
        "--stream",
        "--no-save-rerun",
        "--log-level", "info",
        "--project", project,
    ]  # fmt: skip


def facts_run(bolt: str, target: str, project: str) -> list[str]:
    return [bolt, "task", "run", "facts", "--targets", target, "--format", "json", "--no-save-rerun", "--project", project]


def version(bolt: str) -> list[str]:
    return [bolt, "--version"]


def redacted(params: dict[str, Any], sensitive: Iterable[str]) -> dict[str, Any]:
    """The parameters with the values of the Sensitive ones replaced by Bolt's own marker."""
    sensitive = set(sensitive)
    return {k: (REDACTED if k in sensitive else v) for k, v in params.items()}


def display(argv: Sequence[str], params: dict[str, Any] | None = None, sensitive: Iterable[str] = ()) -> str:
    """Render argv for people: a params file shows as the JSON it holds, Sensitive values redacted.

    That is the equivalent command someone can type (`--params @FILE` would name a file that is
    gone once the run ends).
    """
    shown = list(argv)
    if params is not None and "--params" in shown:
        i = shown.index("--params") + 1
        shown[i] = json.dumps(redacted(params, sensitive), sort_keys=True)
    return shlex.join(shown)
