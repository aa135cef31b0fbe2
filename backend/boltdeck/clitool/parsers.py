"""The client commands' arguments: `run`, `tail`, `executions`, `cancel`, `rerun`, `plans`, `plan` (argparse only)."""

from __future__ import annotations

import argparse

CLIENT_COMMANDS = frozenset({"run", "tail", "executions", "cancel", "rerun", "plans", "plan"})
TOKEN_HELP = "API token (prefer BOLTDECK_TOKEN or --token-file: an argument shows in `ps` and the shell history)"


def add_client_commands(commands: argparse._SubParsersAction) -> None:
    """Register the client commands on the `boltdeck` parser's subcommands."""
    connection = _connection_options()
    follow = _follow_options()
    detach = argparse.ArgumentParser(add_help=False)
    detach.add_argument("--detach", action="store_true", help="print the execution id and return at once")
    _add_run(commands, [connection, follow, detach])

    tail = commands.add_parser("tail", parents=[connection, follow], help="follow an execution (from its start)")
    tail.add_argument("id", metavar="ID", help="the execution id")

    executions = commands.add_parser("executions", help="the execution history")
    actions = executions.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", parents=[connection, _output_options()], help="list executions, newest first")
    listing.add_argument("--status", help="comma-separated statuses: success, failed, running, ...")
    listing.add_argument("--kind", choices=("command", "task", "puppet", "package", "plan"))
    listing.add_argument("--target", help="executions that ran on this target (also through a group)")
    listing.add_argument("--since", metavar="ISO", help="created at or after (with a timezone: 2026-01-31T00:00Z)")
    listing.add_argument("--until", metavar="ISO", help="created before (with a timezone)")
    listing.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    listing.add_argument("--offset", type=int, default=0, help="skip this many")
    show = actions.add_parser("show", parents=[connection, _output_options()], help="one execution and its results")
    show.add_argument("id", metavar="ID")

    cancel = commands.add_parser("cancel", parents=[connection, _output_options()], help="cancel an execution")
    cancel.add_argument("id", metavar="ID")

    rerun = commands.add_parser("rerun", parents=[connection, follow, detach], help="run an execution again, follow it")
    rerun.add_argument("id", metavar="ID")
    rerun.add_argument("--failed", action="store_true", help="only the targets that failed or gave no result")

    commands.add_parser("plans", parents=[connection, _output_options()], help="the plans you can run")
    plan = commands.add_parser("plan", help="a plan's description and parameters")
    plan_actions = plan.add_subparsers(dest="action", required=True)
    plan_show = plan_actions.add_parser("show", parents=[connection, _output_options()], help="a plan's parameters")
    plan_show.add_argument("name", metavar="NAME")


def _add_run(commands: argparse._SubParsersAction, options: list[argparse.ArgumentParser]) -> None:
    """`run command|task|plan|puppet|package`: each with the connection, follow, detach and run options."""
    run = commands.add_parser("run", help="run a command, task, plan, Puppet agent run or package action, follow it")
    kinds = run.add_subparsers(dest="kind", required=True, metavar="{command,task,plan,puppet,package}")
    started = [*options, _run_options()]

    command = kinds.add_parser("command", parents=started, help="run a shell command")
    command.add_argument("command_line", metavar="COMMAND", help="the command, as one argument: quote it")
    command.add_argument("--run-as", metavar="USER", help="run it as this user on the targets")

    task = kinds.add_parser("task", parents=started, help="run a Bolt task")
    task.add_argument("task", metavar="NAME", help="the task, e.g. package or mymodule::deploy")
    task.add_argument("params", nargs="*", metavar="KEY=VALUE", help="parameters, typed by the task's metadata")

    plan = kinds.add_parser("plan", parents=[*options, _run_options(targets_required=False)], help="run a Bolt plan")
    plan.add_argument("plan", metavar="NAME", help="the plan, e.g. mymodule::deploy")
    plan.add_argument("params", nargs="*", metavar="KEY=VALUE", help="parameters, typed by the plan's metadata")

    puppet = kinds.add_parser("puppet", parents=started, help="run the Puppet agent (puppet agent --test)")
    puppet.add_argument("--noop", action="store_true", help="show what would change, change nothing")
    puppet.add_argument("--environment", help="the Puppet environment")
    puppet.add_argument("--tags", help="comma-separated tags to apply")

    package = kinds.add_parser("package", parents=started, help="install, uninstall, upgrade or check a package")
    package.add_argument("action", choices=("install", "uninstall", "upgrade", "status"))
    package.add_argument("name", help="the package name")
    package.add_argument("--version", dest="package_version", metavar="VERSION", help="the version to install")


def _connection_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("server")
    group.add_argument("--url", help="the Boltdeck server (default BOLTDECK_URL)")
    group.add_argument("--token", help=TOKEN_HELP)
    group.add_argument("--token-file", metavar="FILE", help="read the API token from FILE (- for stdin)")
    return options


def _output_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="print JSON objects, one per line, for other tools")
    group.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR set, or not a terminal)")
    return options


def _follow_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False, parents=[_output_options()])
    options.add_argument(
        "--cancel-on-interrupt", action="store_true", help="Ctrl-C cancels the execution without asking"
    )
    return options


def _run_options(targets_required: bool = True) -> argparse.ArgumentParser:
    """Options of every run; a plan's targets are optional (they fill its TargetSpec parameter, if it has one)."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("run")
    targets_help = "comma-separated target and group names, as bolt's"
    if not targets_required:
        targets_help += " (they fill the plan's TargetSpec parameter `targets`, else its only one: see plan show)"
    group.add_argument("-t", "--targets", required=targets_required, help=targets_help)
    group.add_argument("--expert", action="store_true", help="expert mode: live output lines and the bolt command line")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="stop it (timed_out) after this long")
    return options
