"""The client commands, each a function of the parsed arguments that returns the exit status.

Exit status: 0 the execution succeeded (or the command did what it was asked), 1 it ended
failed, partial, cancelled, timed out or interrupted, 2 usage, connection or API error (nothing
ran, or it could not be followed), 130 stopped following after Ctrl-C (the execution goes on).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

from ..client import Client, ClientError, ConflictError, Execution
from .params import ParameterError, typed_params
from .views import (
    JsonView,
    LiveView,
    Terminal,
    execution_fields,
    executions_table,
    expanded_targets,
    plan_view,
    plans_table,
    print_output,
    summary_table,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 130


def run(args: argparse.Namespace) -> int:
    """Run one client command; errors become one line on stderr and exit status 2."""
    terminal = Terminal(args.no_color)
    try:
        with _connect(args) as client:
            return HANDLERS[args.command](client, args, terminal)
    except ClientError as exc:
        terminal.note(f"boltdeck: {exc.message} ({exc.code})", "error")
        for field, problems in (exc.details or {}).items():
            if isinstance(problems, list):
                terminal.note(f"  {field}: {'; '.join(map(str, problems))}", "error")
    except (ValueError, ParameterError, OSError) as exc:
        terminal.note(f"boltdeck: {exc}", "error")
    except KeyboardInterrupt:
        return EXIT_STOPPED
    return EXIT_USAGE


def _connect(args: argparse.Namespace) -> Client:
    """The client for --url/BOLTDECK_URL with the token of --token, --token-file or BOLTDECK_TOKEN."""
    url = args.url or os.environ.get("BOLTDECK_URL")
    if not url:
        raise ValueError("no server: give --url or set BOLTDECK_URL")
    token = args.token
    if token is None and args.token_file:
        text = sys.stdin.readline() if args.token_file == "-" else Path(args.token_file).read_text()
        token = text.strip()
    return Client(url, token if token is not None else os.environ.get("BOLTDECK_TOKEN"))


def start_run(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    options = {"expert": args.expert, "timeout_seconds": args.timeout}
    if args.kind == "command":
        execution = client.run_command(args.command_line, args.targets, run_as=args.run_as, **options)
    elif args.kind == "task":
        params = typed_params(args.params, client.task(args.task)) if args.params else {}
        execution = client.run_task(args.task, args.targets, params, **options)
    elif args.kind == "plan":
        params = typed_params(args.params, client.plan(args.plan)) if args.params else {}
        execution = client.run_plan(args.plan, args.targets, params, **options)
    elif args.kind == "puppet":
        tags = args.tags.split(",") if args.tags else None
        execution = client.run_puppet(args.targets, noop=args.noop, environment=args.environment, tags=tags, **options)
    else:
        execution = client.run_package(args.action, args.name, args.targets, version=args.package_version, **options)
    return _started(client, execution, args, terminal)


def rerun(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    return _started(client, client.rerun(args.id, "failed" if args.failed else "all"), args, terminal)


def tail(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    return follow(client, args.id, args, terminal)


def _started(client: Client, execution: Execution, args: argparse.Namespace, terminal: Terminal) -> int:
    if args.detach:
        print(execution.id)
        return EXIT_OK
    if not args.json:
        terminal.note(f"execution {execution.id} ({execution.status})")
    return follow(client, execution.id, args, terminal)


def follow(client: Client, execution_id: str, args: argparse.Namespace, terminal: Terminal) -> int:
    """Show the execution from its first event to its end; Ctrl-C cancels it or stops following."""
    view = JsonView() if args.json else LiveView(terminal)
    last_seq, cancelling = 0, False
    while True:
        try:
            for event in client.stream(execution_id, after=last_seq):
                view.event(event)
                last_seq = event.seq
            break
        except KeyboardInterrupt:
            view.pause()
            if cancelling or not _cancel_wanted(execution_id, args.cancel_on_interrupt, terminal):
                terminal.note(f"stopped following; execution {execution_id} goes on (boltdeck tail {execution_id})")
                return EXIT_STOPPED
            cancelling = True
            _cancel(client, execution_id, terminal)
    execution = client.execution(execution_id)
    view.end(execution)
    return EXIT_OK if execution.status == "success" else EXIT_FAILED


def _cancel_wanted(execution_id: str, cancel_on_interrupt: bool, terminal: Terminal) -> bool:
    """--cancel-on-interrupt, or the answer to a question on a terminal; never cancel unasked."""
    if cancel_on_interrupt:
        return True
    if not sys.stdin.isatty():
        return False
    sys.stderr.write(f"\nCancel execution {execution_id}? [y/N] (no: stop following, it goes on) ")
    sys.stderr.flush()
    try:
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    except KeyboardInterrupt:
        return False


def _cancel(client: Client, execution_id: str, terminal: Terminal) -> None:
    terminal.note(f"cancelling execution {execution_id} ...")
    try:
        client.cancel(execution_id)
    except ConflictError as exc:  # it ended meanwhile: the stream shows how
        terminal.note(exc.message)


def list_executions(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    filters = {name: getattr(args, name) for name in ("status", "kind", "target", "since", "until", "limit", "offset")}
    page = client.executions(**filters)
    if args.json:
        _print_json(item.raw for item in page.items)
    else:
        terminal.out.print(executions_table(page.items))
        terminal.note(f"{len(page.items)} of {page.total} (newest first; --limit and --offset for others)")
    return EXIT_OK


def show_execution(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    execution = client.execution(args.id)
    if args.json:
        _print_json([execution.raw])
        return EXIT_OK
    terminal.out.print(execution_fields(execution))
    terminal.out.print(summary_table(execution, expanded_targets(execution)))
    for result in execution.results:
        print_output(terminal, result)
    return EXIT_OK


def cancel(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    execution = client.cancel(args.id)
    if args.json:
        _print_json([execution.raw])
    else:
        print(f"execution {execution.id} is {execution.status}")
    return EXIT_OK


def list_plans(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    plans = client.plans()
    if args.json:
        _print_json(plans)
    else:
        terminal.out.print(plans_table(plans))
    return EXIT_OK


def show_plan(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    plan = client.plan(args.name)
    if args.json:
        _print_json([plan])
        return EXIT_OK
    terminal.out.print(plan_view(plan))
    return EXIT_OK


def _executions(client: Client, args: argparse.Namespace, terminal: Terminal) -> int:
    return (list_executions if args.action == "list" else show_execution)(client, args, terminal)


def _print_json(objects) -> None:
    for obj in objects:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


HANDLERS: dict[str, Callable[[Client, argparse.Namespace, Terminal], int]] = {
    "run": start_run,
    "tail": tail,
    "executions": _executions,
    "cancel": cancel,
    "rerun": rerun,
    "plans": list_plans,
    "plan": show_plan,
}
