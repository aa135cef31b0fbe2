"""The client's pure pieces on exact inputs: parameter typing, error mapping, the resume state, exec assembly."""

from __future__ import annotations

import json

import pytest

from boltdeck.client import (
    APIError,
    ClientError,
    ConnectionError,
    Event,
    PolicyDeniedError,
    RateLimitedError,
    ServerError,
    StreamEndedError,
    ValidationError,
)
from boltdeck.client.errors import error_from_answer
from boltdeck.client.follow import ExecAssembly, Follow
from boltdeck.clitool.params import ParameterError, typed_params


def test_pieces_task_parameters_are_typed_like_bolt_types_them():
    metadata = {
        "parameters": [
            {"name": "count", "type": "Optional[Integer[1,10]]"},
            {"name": "ratio", "type": "Float"},
            {"name": "name", "type": "String[1]"},
            {"name": "secret", "type": "Optional[Sensitive[String]]"},
            {"name": "mode", "type": "Enum[fast, slow]"},
            {"name": "flags", "type": "Array[String]"},
            {"name": "enabled", "type": "Boolean"},
        ]
    }
    words = ["count=3", "ratio=1", "name=007", "secret=true", "mode=fast", 'flags=["a","b"]', "enabled=false",
             "count2=x y", "unknown=[1]"]  # fmt: skip
    assert typed_params(words, metadata) == {
        "count": 3, "ratio": 1, "name": "007", "secret": "true", "mode": "fast", "flags": ["a", "b"],
        "enabled": False, "count2": "x y", "unknown": [1],
    }  # fmt: skip
    assert typed_params(["count=three"], metadata) == {"count": "three"}  # the server names the problem
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        typed_params(["count"], metadata)


def test_pieces_error_answers_map_to_one_type_each_with_code_message_details():
    policy = error_from_answer(403, {"error": {"code": "policy_denied", "message": "no", "details": {"policy": "p"}}})
    assert isinstance(policy, PolicyDeniedError) and (policy.code, policy.message, policy.details) == (
        "policy_denied", "no", {"policy": "p"})  # fmt: skip
    invalid = error_from_answer(400, {"error": {"code": "validation_error", "message": "bad", "details": {"a": ["x"]}}})
    assert isinstance(invalid, ValidationError) and invalid.details == {"a": ["x"]} and invalid.status_code == 400
    limited = error_from_answer(429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"retry-after": "7"})
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7
    gateway = error_from_answer(502, None)
    assert isinstance(gateway, ServerError) and gateway.code == "http_502"
    teapot = error_from_answer(418, "not json")
    assert type(teapot) is APIError and str(teapot) == "the server answered HTTP 418 (http_418)"


def _sse(seq: int, kind: str = "stdout", **data) -> str:
    return json.dumps({"seq": seq, "type": kind, "executionId": "e1", "target": "t", "data": data})


STREAM = {"content-type": "text/event-stream; charset=utf-8"}


def test_pieces_follow_hands_each_event_out_once_and_resumes_after_the_last():
    follow = Follow("e1", after=0, attempts=2)
    assert follow.answered(200, None, STREAM) and follow.headers() == {}
    assert follow.receive("message", "", 250) is None and follow.retry_ms == 250
    assert follow.receive("stdout", _sse(1), None).seq == 1
    assert follow.receive("stdout", _sse(1), None) is None  # replayed after a reconnection: not twice
    assert follow.headers() == {"Last-Event-ID": "1"} and follow.path == "/api/executions/e1/stream"
    assert follow.dropped(None) == 0.25 and follow.dropped(None) == 0.25
    with pytest.raises(StreamEndedError) as ended:
        follow.dropped(None)
    assert ended.value.last_seq == 1
    follow.receive("complete", _sse(2, "complete", status="success"), None)
    assert follow.ended


def test_pieces_follow_fails_at_once_when_the_stream_never_opened_and_retries_gateways_only_after():
    never = Follow("e1")
    refused = ConnectionError("refused", "connection_failed")
    with pytest.raises(ConnectionError):
        never.dropped(refused)
    with pytest.raises(ServerError):
        never.answered(503, None, {})
    with pytest.raises(ClientError, match="not an event stream"):
        never.answered(200, None, {"content-type": "text/html"})  # a portal's page, say
    opened = Follow("e1", after=5)
    assert opened.answered(200, None, STREAM) and opened.answered(503, None, {}) is False
    assert opened.answered(204, None, {}) is False and opened.ended


def _event(seq: int, kind: str, on: str | None = None, **data) -> Event:
    return Event.from_json({"seq": seq, "type": kind, "executionId": "e1", "target": on, "data": data})


def _result(seq: int, target: str, status: str, exit_code: int, stdout: str, stderr: str = "") -> Event:
    data = {"target": target, "status": status, "exitCode": exit_code, "stdout": stdout, "stderr": stderr}
    return _event(seq, "result", target, **data)


def test_pieces_exec_assembly_output_order_and_exit_code():
    assembly = ExecAssembly("e1", expert=False)
    assembly.feed(_event(1, "start", expandedTargets=["b", "a"], timeoutSeconds=60))
    assert assembly.feed(_event(2, "stdout", "a", text="live\n")) == []  # without expert mode: results only
    chunks = assembly.feed(_result(3, "a", "failure", 4, "x\ny", "e\n"))
    assert [(c.type, c.output) for c in chunks] == [("stdout", "x\ny"), ("stderr", "e\n")]
    assembly.feed(_result(4, "b", "success", 0, "1\n"))
    done = assembly.feed(_event(5, "complete", status="partial", exitCode=1, durationMs=900))[0]
    assert (done.done, done.status, done.exit_code, done.duration_ms) == (True, "partial", 1, 900)
    assert assembly.result().output == "[b] 1\n[a] x\n[a] ye\n"
    single = ExecAssembly("e2", expert=True)
    single.feed(_event(1, "start", expandedTargets=["a"]))
    assert single.feed(_event(2, "stdout", "a", text="live\n"))[0].output == "live\n"
    single.feed(_result(3, "a", "failure", 4, "live\n"))
    assert single.feed(_event(4, "complete", status="failed", exitCode=1, durationMs=5))[0].exit_code == 4
