"""Access control against live servers: authentication, roles, policy, tokens, CSRF, audit, limits."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
import websocket

from ..conftest import ADMIN, ADMIN_PASSWORD
from ..pg import database_text, on_postgres, run_sql
from ..streaming.sse_client import SSEStream
from .helpers import wait_until

PUBLIC = {("GET", "/api/health"), ("POST", "/api/auth/login")}
PATH_VALUES = {
    "execution_id": "0" * 32,
    "name": "localhost",
    "task:name": "demo::hello",
    "plan:name": "demo::checkup",
    "token_id": "0" * 12,
}
RUN_ROUTES = {
    "/api/commands": {"targets": ["localhost"], "command": "uptime"},
    "/api/tasks/run": {"targets": ["localhost"], "task": "demo::hello", "params": {"name": "x"}},
    "/api/puppet/runs": {"targets": ["localhost"], "noop": True},
    "/api/packages": {"targets": ["localhost"], "action": "status", "name": "bash"},
    "/api/apply/runs": {"targets": ["localhost"], "code": "notify { 'hi': }", "noop": True},
    "/api/plans/run": {"plan": "demo::checkup", "targets": ["localhost"]},
}
SLEEPER = "sleep 30"
# A different origin that still names this machine: tests never point anywhere else.
FOREIGN_ORIGIN = "http://localhost:1"


def _api_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<([^>]+)>", lambda m: PATH_VALUES[m.group(1)], rule.rule)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def _start(server, body: dict, headers: dict | None = None) -> str:
    response = server.run("/api/commands", body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["executionId"]


def _audit(server, **params) -> list[dict]:
    response = server.api("GET", "/api/audit", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _bolt_runs(server) -> list[list[str]]:
    """The Bolt runs (not inventory, task or version look-ups) the server started so far."""
    runs = (["command", "run"], ["task", "run"], ["plan", "run"], ["script", "run"], ["apply"])
    return [argv for argv in server.invocations() if any(argv[: len(run)] == run for run in runs)]


def _write_policy(path, policy: dict) -> None:
    path.write_text(json.dumps({"policy": policy}))  # JSON is YAML


def _login(server, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> tuple[requests.Session, str]:
    session = requests.Session()
    response = session.post(server.url + "/api/auth/login", json={"username": name, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return session, response.json()["csrfToken"]


# authentication ---------------------------------------------------------------------------
def test_access_every_api_route_but_health_and_login_needs_credentials(app, server):
    routes = _api_routes(app)
    assert len(routes) >= 30
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer bd_not-a-real-token"}, {"Cookie": "boltdeck_session=forged"}):
            response = server.api(method, path, headers=headers, auth=False)
            if (method, path) in PUBLIC and "Authorization" not in headers:
                assert response.status_code != 401, (method, path, headers)
            else:
                assert response.status_code == 401, (method, path, headers, response.status_code)
                assert response.json()["error"]["code"] in ("unauthenticated", "invalid_token")
    anonymous = server.api("GET", "/api/health", auth=False)
    assert anonymous.status_code == 200 and anonymous.json() == {
        "status": "ok", "bolt": {"available": True}, "database": {"ok": True}
    }  # fmt: skip
    assert "path" in server.api("GET", "/api/health").json()["bolt"]  # details for users only
    # unknown /api paths do not tell strangers what exists
    assert server.api("GET", "/api/no-such-route", auth=False).status_code == 401
    assert server.api("GET", "/api/no-such-route").status_code == 404


def test_access_viewer_is_refused_every_run_route_rerun_and_cancel(server):
    """Regression: this test counted every Bolt call, so the inventory and version calls the
    server makes at start-up (and on a cold cache) failed it whenever it ran alone. Now only
    Bolt runs count (not inventory or version look-ups), and the attempts carry a marker."""
    viewer = server.headers_for("viewer")
    runs_before = len(_bolt_runs(server))
    marker = "viewer_marker"
    attempts = {
        "/api/commands": {"targets": ["localhost"], "command": f"echo {marker}"},
        "/api/tasks/run": {"targets": ["localhost"], "task": "demo::hello", "params": {"name": marker}},
        "/api/puppet/runs": {"targets": ["localhost"], "noop": True, "environment": marker},
        "/api/packages": {"targets": ["localhost"], "action": "status", "name": marker},
        "/api/apply/runs": {"targets": ["localhost"], "code": f"notify {{ '{marker}': }}", "noop": True},
        "/api/plans/run": {"plan": "demo::checkup", "targets": ["localhost"], "params": {"greeting": marker}},
    }
    assert attempts.keys() == RUN_ROUTES.keys()
    for path, body in attempts.items():
        response = server.run(path, body, headers=viewer)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert len(_bolt_runs(server)) == runs_before
    running = _start(server, {"targets": ["localhost"], "command": SLEEPER})
    rerun_marker = f"echo rerun_marker_{time.monotonic_ns()}"
    finished = server.run("/api/commands", {"targets": ["localhost"], "command": rerun_marker}, wait=True).json()["id"]
    assert server.api("POST", f"/api/executions/{finished}/rerun", json={}, headers=viewer).status_code == 403
    assert server.api("POST", f"/api/executions/{running}/cancel", headers=viewer).status_code == 403
    # the same viewer can read, and the server started nothing for it
    assert server.api("GET", f"/api/executions/{running}", headers=viewer).json()["status"] == "running"
    assert server.api("GET", "/api/executions", headers=viewer).status_code == 200
    argvs = [" ".join(argv) for argv in _bolt_runs(server)]
    assert not [argv for argv in argvs if marker in argv]
    assert len([argv for argv in argvs if rerun_marker in argv]) == 1  # the admin's own run, not re-run
    # an operator may cancel
    cancelled = server.api("POST", f"/api/executions/{running}/cancel", headers=server.headers_for("operator"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_access_viewer_websocket_may_watch_but_not_cancel(server):
    execution_id = _start(server, {"targets": ["localhost"], "command": SLEEPER})
    url = server.url.replace("http://", "ws://") + "/api/ws"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=10)  # no credentials: refused before the upgrade
    assert refused.value.status_code == 401
    ws = websocket.create_connection(url, timeout=30, header=[f"Authorization: Bearer {server.token_for('viewer')}"])
    try:
        ws.send(json.dumps({"type": "cancel", "executionId": execution_id}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["code"] == "forbidden", reply
        ws.send(json.dumps({"type": "subscribe", "executionId": execution_id}))
        assert json.loads(ws.recv())["type"] == "subscription_confirmed"
    finally:
        ws.close()
    assert server.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
    denied = _audit(server, action="forbidden", executionId=execution_id)
    assert denied and denied[0]["user"] == "test-viewer" and denied[0]["detail"]["via"] == "websocket"
    server.api("POST", f"/api/executions/{execution_id}/cancel")


def test_access_websocket_cancel_rechecks_a_token_revoked_since_connecting(server):
    server.token_for("operator")
    token = server.api("POST", "/api/tokens", json={"user": "test-operator", "name": "ws"}).json()
    execution_id = _start(server, {"targets": ["localhost"], "command": SLEEPER})
    url = server.url.replace("http://", "ws://") + "/api/ws"
    ws = websocket.create_connection(url, timeout=30, header=[f"Authorization: Bearer {token['token']}"])
    try:
        server.api("DELETE", f"/api/tokens/{token['id']}")
        ws.send(json.dumps({"type": "cancel", "executionId": execution_id}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["code"] == "unauthenticated", reply
    finally:
        ws.close()
    assert server.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
    server.api("POST", f"/api/executions/{execution_id}/cancel")


def test_access_tokens_work_until_revoked_by_api_or_cli(server):
    for revoke_with in ("api", "cli"):
        created = server.api("POST", "/api/tokens", json={"user": ADMIN, "name": f"revoke via {revoke_with}"})
        assert created.status_code == 201
        token = created.json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        assert server.api("GET", "/api/executions?limit=1", headers=headers).status_code == 200
        listed = server.api("GET", "/api/tokens", params={"user": ADMIN}).json()["items"]
        assert token["id"] in {t["id"] for t in listed} and all("token" not in t for t in listed)
        if revoke_with == "api":
            assert server.api("DELETE", f"/api/tokens/{token['id']}").json()["revokedAt"]
        else:
            server.cli("tokens", "revoke", token["id"])
        response = server.api("GET", "/api/executions?limit=1", headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_access_passwords_and_token_values_are_never_stored(server):
    password = "a password nobody else uses 7f3c"
    assert server.api("POST", "/api/users", json={"name": "pw-check", "role": "viewer", "password": password}).ok
    token = server.api("POST", "/api/tokens", json={"user": "pw-check"}).json()["token"]
    _login(server, "pw-check", password)
    database_url = server.env["BOLTDECK_DATABASE_URL"]
    [(stored,)] = run_sql(database_url, "SELECT password_hash FROM users WHERE name = 'pw-check'")
    assert stored.startswith("$argon2id$")
    if on_postgres():  # every row of every table
        raw = database_text(database_url).encode()
    else:  # the file's bytes, freed pages and journal included
        run_sql(database_url, "PRAGMA wal_checkpoint(FULL)")
        raw = b"".join(p.read_bytes() for p in server.tmp_path.glob("boltdeck.sqlite3*"))
    assert password.encode() not in raw and token.encode() not in raw
    assert password not in json.dumps(_audit(server)) and token not in json.dumps(_audit(server))


def test_access_session_login_logout_and_cookie_flags(make_server):
    live = make_server(proxy_hops=1)
    response = requests.post(live.url + "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}, timeout=30)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    behind_https = requests.post(
        live.url + "/api/auth/login",
        json={"username": ADMIN, "password": ADMIN_PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
        timeout=30,
    )
    assert "Secure" in behind_https.headers["Set-Cookie"]
    session, csrf = _login(live)
    assert session.get(live.url + "/api/auth/me", timeout=30).json()["name"] == ADMIN
    assert session.post(live.url + "/api/auth/logout", headers={"X-CSRF-Token": csrf}, timeout=30).status_code == 204
    assert session.get(live.url + "/api/auth/me", timeout=30).status_code == 401
    wrong = requests.post(live.url + "/api/auth/login", json={"username": ADMIN, "password": "wrong password!"}, timeout=30)
    assert wrong.status_code == 401 and "Set-Cookie" not in wrong.headers


def test_access_cross_site_form_post_with_only_the_cookie_is_rejected(server):
    session, csrf = _login(server)
    before = len(_bolt_runs(server))
    form = {"targets": "localhost", "command": "touch /tmp/boltdeck-csrf"}
    forged = session.post(server.url + "/api/commands", data=form, headers={"Origin": FOREIGN_ORIGIN}, timeout=30)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "cross_origin"
    no_origin = session.post(server.url + "/api/commands", data=form, timeout=30)
    assert no_origin.status_code == 403 and no_origin.json()["error"]["code"] == "csrf_failed"
    as_json = session.post(server.url + "/api/commands", json={"targets": ["localhost"], "command": "true"}, timeout=30)
    assert as_json.status_code == 403 and as_json.json()["error"]["code"] == "csrf_failed"
    assert len(_bolt_runs(server)) == before
    # control: the same cookie with its CSRF token is accepted
    good = session.post(
        server.url + "/api/commands",
        json={"targets": ["localhost"], "command": "true"},
        headers={"X-CSRF-Token": csrf, "Origin": server.url},
        timeout=30,
    )
    assert good.status_code == 202, good.text
    url = server.url.replace("http://", "ws://") + "/api/ws"
    cookie = f"Cookie: boltdeck_session={session.cookies['boltdeck_session']}"
    with pytest.raises(websocket.WebSocketBadStatusException) as hijack:
        websocket.create_connection(url, timeout=10, header=[cookie], origin=FOREIGN_ORIGIN)
    assert hijack.value.status_code == 403
    websocket.create_connection(url, timeout=10, header=[cookie], origin=server.url).close()


# policy -----------------------------------------------------------------------------------
def test_access_default_policy_limits_operators_to_diagnostics(server):
    operator = server.headers_for("operator")
    before = len(_bolt_runs(server))
    for command in ("rm -rf /tmp/x", "uptime; id", "systemctl status x && reboot", "cat /etc/shadow"):
        response = server.run("/api/commands", {"targets": ["localhost"], "command": command}, headers=operator)
        assert response.status_code == 403, (command, response.text)
        error = response.json()["error"]
        assert error["code"] == "policy_denied" and error["details"]["policy"] == "policy.roles.operator.commands"
        assert "policy.roles.operator.commands" in error["message"]
    assert len(_bolt_runs(server)) == before
    ran = server.run("/api/commands", {"targets": ["localhost"], "command": "uptime"}, headers=operator, wait=True)
    assert ran.status_code == 200 and ran.json()["createdBy"] == "test-operator"
    puppet = server.run("/api/puppet/runs", {"targets": ["localhost"], "noop": True}, headers=operator)
    assert puppet.status_code == 202, puppet.text


def test_access_rerun_checks_todays_policy_and_config_limits(make_server, tmp_path):
    config = tmp_path / "boltdeck.yaml"
    allow_echo = {"roles": {"operator": {"commands": {"allow": [{"prefix": "echo"}]}, "targets": ["localhost"]}}}
    _write_policy(config, {**allow_echo, "expert_mode_roles": ["admin"]})
    live = make_server(extra_env={"BOLTDECK_CONFIG": str(config)})
    operator = live.headers_for("operator")
    first = live.run("/api/commands", {"targets": ["localhost"], "command": "echo allowed"}, headers=operator, wait=True)
    assert first.status_code == 200 and first.json()["status"] == "success"
    # target restriction and expert mode from the same file
    elsewhere = live.run("/api/commands", {"targets": ["local2"], "command": "echo x"}, headers=operator)
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["details"]["policy"] == "policy.roles.operator.targets"
    expert = live.run("/api/commands", {"targets": ["localhost"], "command": "echo x", "expertMode": True}, headers=operator)
    assert expert.status_code == 403 and expert.json()["error"]["details"]["policy"] == "policy.expert_mode_roles"
    # the admin takes echo away; the file is read again on the next check
    time.sleep(0.01)
    _write_policy(config, {"roles": {"operator": {"commands": {"allow": [{"exact": "uptime"}]}}}})
    again = live.api("POST", f"/api/executions/{first.json()['id']}/rerun", json={"scope": "all"}, headers=operator)
    assert again.status_code == 403, again.text
    assert again.json()["error"]["code"] == "policy_denied"
    assert live.api("GET", "/api/policy").json()["policy"]["roles"]["operator"]["commands"]["allow"] == [{"exact": "uptime"}]
    rejected = _audit(live, action="policy_rejected", user="test-operator")
    assert len(rejected) == 3 and "echo allowed" in json.dumps(rejected[0]["detail"])
    # the admin's own policy still allows it
    assert live.api("POST", f"/api/executions/{first.json()['id']}/rerun", json={}).status_code == 202


# audit ------------------------------------------------------------------------------------
def test_access_audit_log_records_who_did_what_from_where(server):
    start = server.api("GET", "/api/audit?limit=1").json()["items"][0]["id"]
    requests.post(server.url + "/api/auth/login", json={"username": "test-operator", "password": "nope nope nope"}, timeout=30)
    _login(server, "test-operator", "test-operator password")
    operator = server.headers_for("operator")
    ran = _start(server, {"targets": ["localhost"], "command": SLEEPER})
    server.api("POST", f"/api/executions/{ran}/cancel", headers=operator)
    server.wait_final(ran)
    rerun = server.api("POST", f"/api/executions/{ran}/rerun", json={}).json()["executionId"]
    server.api("POST", f"/api/executions/{rerun}/cancel")
    server.run("/api/commands", {"targets": ["localhost"], "command": "reboot"}, headers=operator)
    server.api("POST", "/api/users", json={"name": "audited", "role": "viewer", "password": "audited password"})
    server.api("PATCH", "/api/users/audited", json={"role": "operator"})
    token = server.api("POST", "/api/tokens", json={"user": "audited"}).json()
    server.api("DELETE", f"/api/tokens/{token['id']}")
    server.api("DELETE", "/api/users/audited")
    secret = server.run(
        "/api/tasks/run", {"targets": ["localhost"], "task": "demo::json", "params": {"name": "x", "secret": "hunter2"}}
    )
    entries = [e for e in _audit(server) if e["id"] > start]
    seen = {(e["action"], e["outcome"], e["user"]) for e in entries}
    expected = {
        ("login_failed", "failed", "test-operator"),
        ("login", "ok", "test-operator"),
        ("run", "ok", ADMIN),
        ("cancel", "ok", "test-operator"),
        ("rerun", "ok", ADMIN),
        ("policy_rejected", "denied", "test-operator"),
        ("user_created", "ok", ADMIN),
        ("user_updated", "ok", ADMIN),
        ("token_created", "ok", ADMIN),
        ("token_revoked", "ok", ADMIN),
        ("user_deleted", "ok", ADMIN),
    }
    assert expected <= seen, expected - seen
    assert all(e["client"] == "127.0.0.1" and re.match(r"\d{4}-\d\d-\d\dT", e["at"]) for e in entries)
    assert [e for e in entries if e["action"] == "rerun"][0]["detail"]["parentId"] == ran
    masked = [e for e in entries if e["executionId"] == secret.json()["executionId"]][0]
    assert masked["detail"]["request"]["params"]["secret"] != "hunter2"
    assert "hunter2" not in json.dumps(entries)
    assert "hunter2" not in json.dumps(server.api("GET", f"/api/executions/{masked['executionId']}").json())
    # filters
    only = _audit(server, action="cancel,rerun", user=ADMIN)
    assert only and {e["action"] for e in only} <= {"cancel", "rerun"} and {e["user"] for e in only} == {ADMIN}
    assert server.api("GET", "/api/audit", headers=server.headers_for("operator")).status_code == 403


# limits -----------------------------------------------------------------------------------
def test_access_login_is_throttled_per_account_and_per_client(make_server):
    live = make_server(login_max_failures_per_account=3, login_max_failures_per_client=5)
    url = live.url + "/api/auth/login"
    for _ in range(3):
        assert requests.post(url, json={"username": ADMIN, "password": "wrong wrong wrong"}, timeout=30).status_code == 401
    blocked = requests.post(url, json={"username": ADMIN, "password": ADMIN_PASSWORD}, timeout=30)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["details"]["scope"] == "account"
    # the client has 3 failures; two more against other names reach its limit of 5
    for name in ("nobody1", "nobody2"):
        assert requests.post(url, json={"username": name, "password": "x"}, timeout=30).status_code == 401
    by_client = requests.post(url, json={"username": "nobody3", "password": "x"}, timeout=30)
    assert by_client.status_code == 429 and by_client.json()["error"]["details"]["scope"] == "client"
    # API tokens are not affected
    assert live.api("GET", "/api/auth/me").status_code == 200
    outcomes = [e["outcome"] for e in _audit(live, action="login_failed")]
    assert outcomes.count("failed") == 5 and outcomes.count("denied") == 2


def test_access_stream_limit_is_per_user_and_released_when_streams_end(make_server):
    live = make_server(max_streams_per_user=3, sse_heartbeat_seconds=30)
    execution_id = _start(live, {"targets": ["localhost"], "command": "sleep 60"})
    url = f"{live.url}/api/executions/{execution_id}/stream"
    # twenty streams, one after another, each closed by the client while the execution runs
    for _ in range(20):
        stream = SSEStream(url, headers=live.auth)
        assert stream.status == 200
        next(stream.frames())
        stream.close()
    held = [SSEStream(url, headers=live.auth) for _ in range(3)]
    assert all(s.status == 200 for s in held)
    refused = SSEStream(url, headers=live.auth)
    assert refused.status == 429 and refused.body_json()["error"]["code"] == "too_many_streams"
    before = len(_bolt_runs(live))
    body = json.dumps({"targets": ["localhost"], "command": "true"}).encode()
    streamed_run = SSEStream(f"{live.url}/api/commands", method="POST", body=body, headers=live.auth)
    assert streamed_run.status == 429 and len(_bolt_runs(live)) == before  # refused before it starts
    other = SSEStream(url, headers=live.headers_for("viewer"))  # another user is not affected
    assert other.status == 200
    ws = websocket.create_connection(live.url.replace("http://", "ws://") + "/api/ws", header=[f"Authorization: Bearer {live.token}"])
    try:
        assert json.loads(ws.recv())["code"] == "too_many_streams"
    finally:
        ws.close()
    held.pop().close()
    assert wait_until(lambda: SSEStream(url, headers=live.auth).status == 200, 5)
    live.api("POST", f"/api/executions/{execution_id}/cancel")


def test_access_request_body_limit(make_server):
    live = make_server(max_request_bytes=4096)
    before = len(_bolt_runs(live))
    big = {"targets": ["localhost"], "command": "echo " + "x" * 8000}
    response = live.run("/api/commands", big)
    assert response.status_code == 413 and "error" in response.json()
    assert len(_bolt_runs(live)) == before
    assert live.run("/api/commands", {"targets": ["localhost"], "command": "true"}).status_code == 202


def test_access_last_admin_cannot_be_removed_and_cli_refuses_short_passwords(server):
    conflict = server.api("DELETE", f"/api/users/{ADMIN}")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "last_admin"
    assert server.api("PATCH", f"/api/users/{ADMIN}", json={"role": "viewer"}).status_code == 409
    short = server.api("POST", "/api/users", json={"name": "shorty", "role": "viewer", "password": "short"})
    assert short.status_code == 400 and "password" in short.json()["error"]["details"]
    with pytest.raises(AssertionError, match="at least 12|12 to"):
        server.cli("users", "create", "shorty", "--role", "viewer", stdin="short\n")
    assert "shorty" not in server.cli("users", "list")


def test_access_two_admins_removed_at_once_leave_one(make_server):
    """Bug (issue 12, found on PostgreSQL): the last-admin check read the count, then changed
    the user in a later transaction; two admins removed at once could both pass it."""
    from concurrent.futures import ThreadPoolExecutor

    live = make_server()
    survivor, headers = ADMIN, live.auth
    for round_ in range(3):  # each round: exactly two admins, one deletes the other and demotes itself at once
        other = f"second-admin-{round_}"
        body = {"name": other, "role": "admin", "password": f"{other} password"}
        created = live.api("POST", "/api/users", json=body, headers=headers)
        assert created.status_code == 201, created.text
        calls = [("DELETE", f"/api/users/{other}", None), ("PATCH", f"/api/users/{survivor}", {"role": "viewer"})]
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda c: live.api(c[0], c[1], json=c[2], headers=headers), calls))
        assert sorted(a.status_code // 100 for a in answers) == [2, 4], [a.text for a in answers]
        # refused as the last admin, or (the demotion done first) as no longer an admin at all
        assert [a.json()["error"]["code"] in ("last_admin", "forbidden") for a in answers if a.status_code >= 400] == [True]
        users = [line.split("\t") for line in live.cli("users", "list").splitlines()]  # whoever lost admin
        admins = [fields[0] for fields in users if fields[1] == "admin"]
        assert len(admins) == 1, admins
        if admins != [survivor]:  # the demotion won: the other admin is the one left
            survivor = admins[0]
            headers = {"Authorization": f"Bearer {live.cli('tokens', 'create', '--user', survivor).strip()}"}


def test_access_bootstrap_creates_the_first_admin_once(tmp_path):
    from boltdeck.auth import AccountService
    from boltdeck.storage import AccountStore, ExecutionStore

    from ..conftest import boltdeck_cli, server_env

    env = server_env(tmp_path)
    printed = boltdeck_cli(env, "users", "bootstrap", cwd=tmp_path)
    password = re.search(r"Password: (\S+)", printed).group(1)
    assert boltdeck_cli(env, "users", "bootstrap", cwd=tmp_path) == ""  # not fresh any more: silent
    assert boltdeck_cli(env, "users", "list", cwd=tmp_path).split("\t")[:2] == ["admin", "admin"]
    store = ExecutionStore(env["BOLTDECK_DATABASE_URL"])
    try:
        accounts = AccountService(AccountStore(store), session_hours=1)
        assert accounts.verify("admin", password)["role"] == "admin"
        assert accounts.verify("admin", password + "x") is None
    finally:
        store.dispose()
