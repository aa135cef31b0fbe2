"""The `boltdeck` command: serve, upgrade the database, manage users and API tokens, and be a client.

    boltdeck serve [--host H] [--port P] [--web-only]   (upgrades the database schema first)
    boltdeck runner                            (runs queued executions, no HTTP; see docs/deployment.md)
    boltdeck db upgrade                        (create or migrate the schema without serving)
    boltdeck users bootstrap                   (no users yet: create `admin`, print its password once)
    boltdeck users create NAME --role ROLE     (password from stdin, or prompted twice on a terminal)
    boltdeck users list | users delete NAME | users set-password NAME | users set-role NAME ROLE
    boltdeck tokens create --user NAME [--name LABEL] [--expires 30d]   (prints the token once)
    boltdeck tokens list [--user NAME] | tokens revoke ID

Client commands, talking to a server over its HTTP API (BOLTDECK_URL, BOLTDECK_TOKEN; see
docs/scripting.md and `boltdeck.clitool`):

    boltdeck run command|task|puppet|package ... -t TARGETS   (run and follow live)
    boltdeck tail ID | executions list | executions show ID | cancel ID | rerun ID [--failed]

This is an entry point, so for the server commands gevent patches the standard library here,
in main(), after parsing the arguments (argparse only) and before anything else is imported;
the package itself never patches on import. The client commands never import gevent or Flask:
they run on a machine that has only the client's libraries and patch nothing. The `users` and
`tokens` commands may run beside a live server: they never migrate (only create the schema of
an empty database) nor refresh statistics, which would hold the database's lock.
"""

from __future__ import annotations

import argparse
import getpass
import re
import secrets
import sys

from .clitool import CLIENT_COMMANDS, add_client_commands, run_client_command

FIRST_ADMIN = "admin"
DURATION = re.compile(r"([1-9][0-9]{0,9})([smhd])")
SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in CLIENT_COMMANDS:
        return run_client_command(args)
    from gevent import monkey

    monkey.patch_all()
    from .errors import BoltdeckError

    try:
        if args.command == "serve":  # a bad setting is refused here, as one line naming it
            from .server import serve as run_server

            return run_server(args.host, args.port, "web" if args.web_only else None)
        if args.command == "runner":
            from .server import run_runner

            return run_runner()
        if args.command == "db":
            return _upgrade_database()
        return _manage(args)
    except BoltdeckError as exc:
        print(f"boltdeck: {exc.message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boltdeck", description="Web console and HTTP API for Puppet Bolt")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web UI and API with gevent (upgrades the database first)")
    serve.add_argument("--host", help="address to listen on (default BOLTDECK_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default BOLTDECK_PORT or 8000)")
    serve.add_argument(
        "--web-only", action="store_true", help="serve HTTP only; `boltdeck runner` processes run the executions"
    )
    commands.add_parser("runner", help="run queued executions without serving HTTP (needs a shared database)")
    database = commands.add_parser("db", help="manage the database").add_subparsers(dest="action", required=True)
    database.add_parser("upgrade", help="create or migrate the schema (stop the server first) and refresh statistics")

    users = commands.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create a user; the password is read from stdin or prompted")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=("viewer", "operator", "admin"))
    users.add_parser("bootstrap", help="on a fresh install, create the first admin and print its password once")
    users.add_parser("list", help="list users and their roles")
    users.add_parser("delete", help="delete a user, their tokens and sessions").add_argument("name")
    users.add_parser("set-password", help="set a user's password (stdin or prompted)").add_argument("name")
    set_role = users.add_parser("set-role", help="change a user's role")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=("viewer", "operator", "admin"))

    tokens = commands.add_parser("tokens", help="manage API tokens").add_subparsers(dest="action", required=True)
    token_create = tokens.add_parser("create", help="create an API token and print it (once)")
    token_create.add_argument("--user", required=True)
    token_create.add_argument("--name", help="a label to recognise the token by")
    token_create.add_argument("--expires", metavar="DURATION", help="refuse it after this long: 90s, 30m, 12h, 30d")
    token_list = tokens.add_parser("list", help="list API tokens (never their values)")
    token_list.add_argument("--user")
    tokens.add_parser("revoke", help="revoke an API token by its id").add_argument("id")
    add_client_commands(commands)
    return parser


def _upgrade_database() -> int:
    from .config import Settings
    from .storage import ExecutionStore

    settings = Settings.load()
    store = ExecutionStore(settings.database_url, busy_seconds=settings.database_busy_seconds, upgrade=True)
    try:
        print(f"the database is at schema version {store.schema_version()}")
    finally:
        store.dispose()
    return 0


def _manage(args: argparse.Namespace) -> int:
    from .auth import AccountService, AuditLog
    from .config import Settings
    from .storage import AccountStore, ExecutionStore

    settings = Settings.load()
    store = ExecutionStore(settings.database_url, busy_seconds=settings.database_busy_seconds, upgrade=False)
    account_store = AccountStore(store)
    accounts = AccountService(account_store, settings.session_hours)
    audit = AuditLog(account_store)
    client = f"cli:{getpass.getuser()}"
    try:
        if args.command == "users":
            return _users(args, accounts, lambda action, **kw: audit.record(action, user=None, client=client, **kw))
        return _tokens(args, accounts, lambda action, **kw: audit.record(action, user=None, client=client, **kw))
    finally:
        store.dispose()


def _users(args, accounts, audit) -> int:
    if args.action == "bootstrap":
        if accounts.list_users():
            return 0  # not a fresh install: nothing to do, nothing to print
        password = secrets.token_urlsafe(15)
        user = accounts.create_user(FIRST_ADMIN, "admin", password)
        audit("user_created", name=user["name"], role=user["role"], bootstrap=True)
        print(
            f"Created the first admin. User: {FIRST_ADMIN}  Password: {password}\n"
            f"This is shown once. Change it with `boltdeck users set-password {FIRST_ADMIN}`."
        )
    elif args.action == "create":
        user = accounts.create_user(args.name, args.role, _read_password())
        audit("user_created", name=user["name"], role=user["role"])
        print(f"created {user['role']} {user['name']}")
    elif args.action == "list":
        for user in accounts.list_users():
            print(f"{user['name']}\t{user['role']}\tcreated {user['created_at']}")
    elif args.action == "delete":
        user = accounts.delete_user(args.name)
        audit("user_deleted", name=user["name"], role=user["role"])
        print(f"deleted {user['name']}")
    elif args.action == "set-password":
        accounts.update_user(args.name, password=_read_password())
        audit("user_updated", name=args.name, passwordChanged=True)
        print(f"password of {args.name} changed; their sessions are closed")
    elif args.action == "set-role":
        before = accounts.require_user(args.name)
        user = accounts.update_user(args.name, role=args.role)
        audit("user_updated", name=args.name, role=user["role"], previousRole=before["role"])
        print(f"{args.name} is now {user['role']}")
    return 0


def _tokens(args, accounts, audit) -> int:
    from .executions.model import utcnow

    if args.action == "create":
        lifetime = None if args.expires is None else duration_seconds(args.expires)
        secret, record = accounts.create_token(args.user, args.name, lifetime, field="--expires")
        expires_at = record["expires_at"]
        audit("token_created", tokenId=record["id"], owner=record["user"], name=record["name"], expiresAt=expires_at)
        until = f"expires {expires_at}" if expires_at else "never expires"
        print(f"token {record['id']} of {record['user']} ({record['name']}, {until}); shown only now:", file=sys.stderr)
        print(secret)
    elif args.action == "list":
        now = utcnow()
        for token in accounts.list_tokens(args.user):
            used = token["last_used_at"] or "never"
            print(f"{token['id']}\t{token['user']}\t{token['name']}\t{_token_state(token, now)}\tlast used {used}")
    elif args.action == "revoke":
        record = accounts.revoke_token(args.id)
        audit("token_revoked", tokenId=record["id"], owner=record["user"], name=record["name"])
        print(f"revoked token {record['id']} of {record['user']}")
    return 0


def _token_state(token: dict, now: str) -> str:
    if token["revoked_at"]:
        return f"revoked {token['revoked_at']}"
    if token["expires_at"] and token["expires_at"] <= now:
        return f"expired {token['expires_at']}"
    return f"active until {token['expires_at']}" if token["expires_at"] else "active"


def duration_seconds(text: str) -> int:
    """Seconds in a duration like 90s, 30m, 12h or 30d; a clear error naming --expires otherwise."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        from .errors import ValidationError

        raise ValidationError(
            f"--expires must be a whole number and a unit (s, m, h or d), like 30d; got {text!r}",
            details={"--expires": ["not a duration"]},
        )
    return int(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]


def _read_password() -> str:
    """The new password: prompted twice on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat it: "):
            from .errors import ValidationError

            raise ValidationError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


if __name__ == "__main__":
    sys.exit(main())
