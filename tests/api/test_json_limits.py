"""Request bodies that are not usable JSON answer 400 naming the problem, never 500 (issue 11)."""

from __future__ import annotations

import pytest

JSON = {"Content-Type": "application/json"}
# Every route that reads a JSON body (the login included: it needs no credentials).
BODY_ROUTES = [
    ("POST", "/api/auth/login"),
    ("POST", "/api/users"),
    ("PATCH", "/api/users/admin"),
    ("POST", "/api/tokens"),
    ("POST", "/api/commands"),
    ("POST", "/api/tasks/run"),
    ("POST", "/api/puppet/runs"),
    ("POST", "/api/packages"),
    ("POST", "/api/executions/" + "0" * 32 + "/rerun"),
]


def _nested(depth: int, leaf: str = '"x"') -> str:
    return '{"username": ' + "[" * (depth - 1) + leaf + "]" * (depth - 1) + "}"


def _tracebacks(server) -> int:
    return server.log_path.read_text().count("Traceback")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_json_nested_1000_deep_is_400_on_every_json_route(server, method, path):
    """Bug (issue 11): JSON nested ~1,000 deep answered 500 with a traceback on every JSON route, the login included."""
    before = _tracebacks(server)
    response = server.api(method, path, data="[" * 1000 + "]" * 1000, headers=JSON)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and "more than 32 levels deep" in error["message"], error
    assert error["details"] == {"body": [error["message"]]}
    assert _tracebacks(server) == before


def test_json_depth_limit_is_a_setting_and_counts_levels_exactly(make_server):
    """BOLTDECK_MAX_JSON_DEPTH bounds the nesting: at the limit the body reaches the schema, one more is refused."""
    live = make_server(max_json_depth=4)
    at_limit = live.api("POST", "/api/auth/login", data=_nested(4), headers=JSON, auth=False)
    assert at_limit.status_code == 400 and at_limit.json()["error"]["code"] == "validation_error", at_limit.text
    assert "username" in at_limit.json()["error"]["details"]
    over = live.api("POST", "/api/auth/login", data=_nested(5), headers=JSON, auth=False)
    assert over.status_code == 400 and over.json()["error"]["code"] == "invalid_json", over.text
    assert "more than 4 levels deep" in over.json()["error"]["message"]
    # brackets inside strings are text, not nesting
    in_string = live.api("POST", "/api/auth/login", data=_nested(2, '"[[[[[[{{{{\\"[["'), headers=JSON, auth=False)
    assert in_string.json()["error"]["code"] == "validation_error", in_string.text


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b'{"username": "a", ', "invalid_json", "not valid JSON"),
        (b'{"username": "\xff\xfe"}', "invalid_json", "not UTF-8"),
        (b'{"username": "\\ud800", "password": "x"}', "invalid_json", "lone UTF-16 surrogate"),
        (b'{"username": "a", "password": "' + b"9" * 5000 + b'"}', "validation_error", "password"),
        (b'{"n": ' + b"9" * 5000 + b"}", "invalid_json", "4300 digits"),
        (b'["admin", "password"]', "validation_error", "got a JSON array"),
        (b'"admin"', "validation_error", "got a JSON string"),
        (b"null", "validation_error", "must be a JSON object"),
    ],
    ids=["truncated", "not-utf8", "lone-surrogate", "long-string", "huge-number", "array", "string", "null"],
)
def test_json_malformed_bodies_are_400_naming_the_problem(server, body, code, words):
    """Bug (issue 11): a lone surrogate escape answered 500 (it cannot be stored or logged); a body that
    was not UTF-8 or not JSON answered "must be a JSON object", hiding what was wrong."""
    before = _tracebacks(server)
    response = server.api("POST", "/api/auth/login", data=body, headers=JSON, auth=False)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error
    assert _tracebacks(server) == before


def test_json_lone_surrogate_in_a_run_is_400_and_starts_nothing(server):
    """Bug (issue 11): a command holding "\\ud800" answered 500 instead of naming the problem."""
    total = server.api("GET", "/api/executions").json()["total"]
    body = b'{"targets": ["localhost"], "command": "echo \\ud800"}'
    response = server.api("POST", "/api/commands", data=body, headers=JSON)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json", response.text
    assert server.api("GET", "/api/executions").json()["total"] == total


def test_json_surrogate_pairs_and_empty_bodies_still_work(server):
    """A proper surrogate pair is text; an empty body on rerun is still 'no options' (not a parse error)."""
    pair = b'{"user": "admin", "name": "smile \\ud83d\\ude00"}'
    response = server.api("POST", "/api/tokens", data=pair, headers=JSON)
    assert response.status_code == 201 and response.json()["name"] == "smile \U0001f600", response.text
    server.api("DELETE", f"/api/tokens/{response.json()['id']}")
    done = server.run("/api/commands", {"targets": ["localhost"], "command": "true"}, wait=True).json()
    rerun = server.api("POST", f"/api/executions/{done['id']}/rerun", data=b"", headers=JSON)
    assert rerun.status_code == 202, rerun.text
    server.wait_final(rerun.json()["executionId"])
