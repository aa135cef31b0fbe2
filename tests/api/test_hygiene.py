"""Hygiene (issue 11): escaped log lines, uncacheable API answers, expiring tokens, Bolt's own environment."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from boltdeck.storage.schema import CURRENT_VERSION

from ..conftest import ADMIN, SCENARIO_PROJECT, LiveServer, boltdeck_cli
from ..pg import run_sql
from ..streaming.sse_client import SSEStream

JSON = {"Content-Type": "application/json"}
FORGED = "2026-01-01 00:00:00,000 INFO audit: login by admin"  # what a forged line would say


def test_login_name_cannot_forge_or_colour_log_lines(make_server):
    """Bug (issue 11): the login name went into the server log raw: newlines forged log lines, ANSI passed."""
    server = make_server(log_level="INFO")
    name = f"eve\n{FORGED}\x1b[31m\u2028"
    answer = server.api("POST", "/api/auth/login", json={"username": name, "password": "x" * 12}, auth=False)
    assert answer.status_code == 401
    server.stop()
    log = server.log_path.read_text()
    mentions = [line for line in log.splitlines() if "eve" in line]
    assert len(mentions) == 1 and "login_failed" in mentions[0]
    assert mentions[0].endswith(r"eve\n" + FORGED + r"\x1b[31m\u2028 from 127.0.0.1 ")
    assert not any(line.startswith(FORGED) for line in log.splitlines())
    assert "\x1b" not in log and "\u2028" not in log


def _sampled_answers(server) -> dict[str, object]:
    execution_id = server.run("/api/commands", {"targets": ["localhost"], "command": "echo hi"}, wait=True).json()["id"]
    return {
        "200 json": server.api("GET", "/api/executions?limit=1"),
        "200 public": server.api("GET", "/api/health", auth=False),
        "200 download": server.api("GET", f"/api/executions/{execution_id}/output"),
        "200 openapi": server.api("GET", "/api/openapi.json"),
        "400": server.api("POST", "/api/commands", json={"targets": []}),
        "401": server.api("GET", "/api/executions", auth=False),
        "401 bad token": server.api("GET", "/api/executions", headers={"Authorization": "Bearer bd_nope"}),
        "404 route": server.api("GET", "/api/no-such-route"),
        "404 execution": server.api("GET", "/api/executions/nope"),
        "413": server.api("POST", "/api/commands", data=b"x" * (2 * 1024 * 1024), headers=JSON),
        "sse": execution_id,
    }


def test_api_answers_are_never_cached_or_sniffed(server):
    """Bug (issue 11): API answers carried no `Cache-Control: no-store` nor `X-Content-Type-Options`."""
    answers = _sampled_answers(server)
    with SSEStream(f"{server.url}/api/executions/{answers.pop('sse')}/stream", headers=server.auth) as stream:
        assert stream.status == 200
        assert stream.headers["cache-control"] == "no-store, no-transform"  # no-transform: proxies never buffer SSE
        assert stream.headers["x-content-type-options"] == "nosniff"
    for label, answer in answers.items():
        assert label.startswith(str(answer.status_code)), (label, answer.status_code, answer.text[:200])
        assert answer.headers["Cache-Control"] == "no-store", label
        assert answer.headers["X-Content-Type-Options"] == "nosniff", label
    page = server.api("GET", "/", auth=False)  # the UI keeps its own headers
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in page.headers.get("Cache-Control", "")


def _me(server, token: str):
    return server.api("GET", "/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def _expiry(answer) -> datetime:
    return datetime.fromisoformat(answer["expiresAt"].replace("Z", "+00:00"))


def test_api_token_expires_when_asked(server):
    """Bug (issue 11): API tokens never expired. One created with expiresInSeconds is refused (401) after it."""
    created = server.api("POST", "/api/tokens", json={"user": ADMIN, "name": "short", "expiresInSeconds": 2})
    assert created.status_code == 201, created.text
    body = created.json()
    assert abs(_expiry(body) - datetime.now(timezone.utc) - timedelta(seconds=2)) < timedelta(seconds=1)
    assert _me(server, body["token"]).status_code == 200
    listed = {t["id"]: t for t in server.api("GET", f"/api/tokens?user={ADMIN}").json()["items"]}
    assert listed[body["id"]]["expiresAt"] == body["expiresAt"] and listed[body["id"]]["revokedAt"] is None
    time.sleep(max(0.0, (_expiry(body) - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    refused = _me(server, body["token"])
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    assert refused.json()["error"]["message"] == f"the API token expired at {body['expiresAt']}"
    assert _me(server, server.token).status_code == 200  # the tokens made without an expiry never expire


@pytest.mark.parametrize("value", [0, -5, 2.5, "30", None, 10**12])
def test_api_token_expiry_out_of_range_is_a_400(server, value):
    answer = server.api("POST", "/api/tokens", json={"user": ADMIN, "expiresInSeconds": value})
    assert answer.status_code == 400
    assert "expiresInSeconds" in answer.json()["error"]["details"]


def test_revoked_token_is_not_called_expired(server):
    created = server.api("POST", "/api/tokens", json={"user": ADMIN, "expiresInSeconds": 3600}).json()
    assert server.api("DELETE", f"/api/tokens/{created['id']}").status_code == 200
    refused = _me(server, created["token"])
    assert refused.status_code == 401 and refused.json()["error"]["message"] == "the API token is unknown or revoked"


def _token_rows(server) -> dict[str, list[str]]:
    """`boltdeck tokens list` by token name: id, user, name, state, last use."""
    rows = [line.split("\t") for line in server.cli("tokens", "list", "--user", ADMIN).splitlines()]
    return {row[2]: row for row in rows}


def _until(state: str) -> datetime:
    return datetime.fromisoformat(state.removeprefix("active until ").replace("Z", "+00:00"))


def test_cli_token_expires(server):
    """Bug (issue 11): `boltdeck tokens create` had no expiry; `--expires 5s` makes one that is refused after 5 s."""
    server.cli("tokens", "create", "--user", ADMIN, "--name", "cli-long", "--expires", "30d")
    short = server.cli("tokens", "create", "--user", ADMIN, "--name", "cli-short", "--expires", "5s").strip()
    assert _me(server, short).status_code == 200
    rows = _token_rows(server)
    assert rows["cli-short"][3].startswith("active until ")
    assert abs(_until(rows["cli-long"][3]) - datetime.now(timezone.utc) - timedelta(days=30)) < timedelta(minutes=1)
    time.sleep(max(0.0, (_until(rows["cli-short"][3]) - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    refused = _me(server, short)
    assert refused.status_code == 401 and "expired" in refused.json()["error"]["message"]
    rows = _token_rows(server)
    assert rows["cli-short"][3].startswith("expired ") and rows["tests"][3] == "active"


@pytest.mark.parametrize("duration", ["30", "2w", "0d", "-1d", "1.5h", ""])
def test_cli_token_expiry_must_be_a_duration(server, duration):
    done = subprocess.run(
        [sys.executable, "-m", "boltdeck", "tokens", "create", "--user", ADMIN, f"--expires={duration}"],
        env=server.env, cwd=server.tmp_path, capture_output=True, text=True,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("boltdeck: --expires must be") and "Traceback" not in done.stderr


def test_unknown_page_answers_the_ui_with_404_and_unknown_api_path_json(server):
    """Bug (issue 16): /nope in a browser showed raw JSON instead of a not-found page."""
    page = server.api("GET", "/nope", headers={"Accept": "text/html,application/xhtml+xml"}, auth=False)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "<script" in page.text and page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    api = server.api("GET", "/api/nope", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert server.api("GET", "/nope", auth=False).json()["error"]["code"] == "not_found"  # a script, not a browser


def test_tokens_issued_before_the_upgrade_never_expire(tmp_path):
    """Schema version 4 adds the expiry column; a token from a version 3 database keeps working."""
    live = LiveServer(tmp_path)
    boltdeck_cli(live.env, "users", "create", ADMIN, "--role", "admin", stdin="a long enough password\n", cwd=tmp_path)
    live.token = boltdeck_cli(live.env, "tokens", "create", "--user", ADMIN, cwd=tmp_path).strip()
    run_sql(live.env["BOLTDECK_DATABASE_URL"], "ALTER TABLE api_tokens DROP COLUMN expires_at")  # what version 3 had
    run_sql(live.env["BOLTDECK_DATABASE_URL"], "UPDATE schema_version SET version = 3")
    assert f"schema version {CURRENT_VERSION}" in boltdeck_cli(live.env, "db", "upgrade", cwd=tmp_path)
    live.start()
    try:
        assert _me(live, live.token).status_code == 200
        assert [t["expiresAt"] for t in live.api("GET", "/api/tokens").json()["items"]] == [None]
    finally:
        live.stop()


@pytest.fixture(params=["double", "real"])
def bolt_kind(request) -> str:
    if request.param == "real":
        request.getfixturevalue("real_bolt")
    return request.param


def test_bolt_gets_only_its_environment(make_server, bolt_kind, request):
    """Bug (issue 11): Bolt inherited the server's whole environment (a database password included)."""
    settings = {"bolt_project": SCENARIO_PROJECT, "bolt_env_passthrough": "BOLT_TEST_UNUSED, PASSED_TO_BOLT"}
    if bolt_kind == "real":
        settings["bolt_bin"] = request.getfixturevalue("real_bolt")
    secrets_of_the_server = {"DEPLOY_API_SECRET": "s3cret-value", "BOLTDECK_DATABASE_URL_PASSWORD": "pw-value"}
    server = make_server(extra_env={**secrets_of_the_server, "PASSED_TO_BOLT": "passed-value"}, **settings)
    execution = server.run("/api/commands", {"targets": ["localhost"], "command": "env"}, wait=True).json()
    assert execution["status"] == "success", execution
    seen = dict(line.split("=", 1) for line in execution["results"][0]["stdout"].splitlines() if "=" in line)
    assert seen["PASSED_TO_BOLT"] == "passed-value"
    assert seen["BOLTDECK_EXECUTION_ID"] == execution["id"] and "PATH" in seen and "HOME" in seen
    assert not set(secrets_of_the_server) & set(seen)
    assert not [name for name in seen if name.startswith("BOLTDECK_") and name != "BOLTDECK_EXECUTION_ID"]
    assert "s3cret-value" not in execution["results"][0]["stdout"]
