"""boltdeck.client against a live server: exec, exec_stream, the run calls, history, cancel, rerun, errors."""

from __future__ import annotations

import socket
import time

import pytest

from boltdeck.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    ConnectionError,
    NotFoundError,
    PolicyDeniedError,
    TimeoutError,
    ValidationError,
)

from .conftest import run_coroutine

# Ten lines 200 ms apart, each saying when it was printed (the same clock as the test's).
TEN_LINES = 'for i in $(seq 1 10); do echo "line $i $(date +%s.%N)"; sleep 0.2; done'


def _assert_each_line_came_before_the_next_was_printed(received: list[tuple[float, str]]) -> None:
    lines = [text for _, text in received]
    assert [line.split()[1] for line in lines] == [str(i) for i in range(1, 11)]
    printed = [float(line.split()[2]) for line in lines]
    for (arrived, _), next_printed in zip(received, printed[1:]):
        assert arrived < next_printed, f"a line arrived {arrived - next_printed:.3f} s after the next was printed"


def _check_done(chunk) -> None:
    assert chunk.done and chunk.type == "done"
    assert (chunk.status, chunk.exit_code) == ("success", 0)
    assert 1800 <= chunk.duration_ms < 30000  # ten lines 200 ms apart


def test_client_exec_stream_yields_each_line_live_then_done(sync_client):
    received, chunks = [], []
    for chunk in sync_client.exec_stream(TEN_LINES):
        chunks.append(chunk)
        if not chunk.done:
            received.append((time.time(), chunk.output))
    _assert_each_line_came_before_the_next_was_printed(received)
    assert all(c.type == "stdout" and c.target == "localhost" for c in chunks[:-1])
    assert [c.seq for c in chunks] == sorted({c.seq for c in chunks})
    _check_done(chunks[-1])


def test_client_async_exec_stream_yields_each_line_live_then_done(server):
    async def follow():
        received, chunks = [], []
        async with AsyncClient(server.url, token=server.token, targets="localhost") as client:
            async for chunk in client.exec_stream(TEN_LINES, timeout_ms=60000):
                chunks.append(chunk)
                if not chunk.done:
                    received.append((time.time(), chunk.output))
        return received, chunks

    received, chunks = run_coroutine(follow())
    _assert_each_line_came_before_the_next_was_printed(received)
    _check_done(chunks[-1])


def test_client_exec_returns_all_output_and_the_commands_exit_code(sync_client):
    result = sync_client.exec("echo hello; echo oops >&2; exit 3")
    assert (result.status, result.exit_code, result.output) == ("failed", 3, "hello\noops\n")
    [only] = result.results
    assert (only.target, only.exit_code, only.stdout, only.stderr) == ("localhost", 3, "hello\n", "oops\n")
    assert result.duration_ms > 0 and not result.ok


def test_client_exec_on_several_targets_prefixes_lines_in_target_order(sync_client):
    result = sync_client.exec("echo a; echo b", targets="local")
    assert result.ok and result.exit_code == 0
    assert result.output == "[localhost] a\n[localhost] b\n[local2] a\n[local2] b\n"


def test_client_async_exec_returns_the_finished_result(server):
    async def run():
        async with AsyncClient(server.url, token=server.token) as client:
            return await client.exec("printf 'x\\ny'", targets=["local2"])

    result = run_coroutine(run())
    assert (result.status, result.exit_code, result.output) == ("success", 0, "x\ny")


def test_client_exec_stream_without_expert_mode_gives_each_targets_output_with_its_result(sync_client):
    chunks = list(sync_client.exec_stream("echo one; echo two >&2", targets="localhost,local2", expert=False))
    outputs = sorted((c.target, c.type, c.output) for c in chunks if not c.done)
    assert outputs == [("local2", "stderr", "two\n"), ("local2", "stdout", "one\n"),
                       ("localhost", "stderr", "two\n"), ("localhost", "stdout", "one\n")]  # fmt: skip
    assert chunks[-1].done and chunks[-1].status == "success"


def test_client_policy_refusal_raises_policy_denied_with_the_apis_code_and_details(server):
    with Client(server.url, token=server.token_for("operator"), targets="localhost") as client:
        with pytest.raises(PolicyDeniedError) as refused:
            client.exec("echo not on the operator allowlist")
    error = refused.value
    assert (error.status_code, error.code) == (403, "policy_denied")
    assert "not allowed for role operator" in error.message
    assert error.details["policy"] == "policy.roles.operator.commands"


def test_client_bad_request_raises_validation_error_with_field_details(sync_client):
    with pytest.raises(ValidationError) as refused:
        sync_client.run_command("uptime", targets=["localhost", "no-such-host"])
    error = refused.value
    assert (error.status_code, error.code) == (400, "validation_error")
    assert "no-such-host" in error.message and set(error.details) == {"targets"}


def test_client_execution_timeout_raises_timeout_error_with_the_output_so_far(sync_client):
    started = time.monotonic()
    with pytest.raises(TimeoutError) as timed_out:
        sync_client.exec("sleep 20", timeout_ms=1000)
    error = timed_out.value
    assert time.monotonic() - started < 15
    assert error.code == "timed_out" and "timed out" in error.message and error.execution_id
    assert error.result.status == "timed_out"
    assert sync_client.execution(error.execution_id).status == "timed_out"


def test_client_exec_stream_raises_timeout_error_instead_of_a_done_chunk(sync_client):
    chunks = []
    with pytest.raises(TimeoutError) as timed_out:
        for chunk in sync_client.exec_stream("echo started; sleep 20", timeout_ms=3000):  # Bolt's start-up inside
            chunks.append(chunk)
    assert [c.output for c in chunks] == ["started\n"]
    assert timed_out.value.code == "timed_out"


def test_client_a_server_that_does_not_answer_in_time_raises_client_timeout():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        with Client(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5) as client:
            with pytest.raises(TimeoutError) as timed_out:
                client.executions()
    assert timed_out.value.code == "client_timeout"


def test_client_unreachable_server_and_bad_token_raise_their_own_types(server):
    with Client("http://127.0.0.1:1", timeout=5) as client:
        with pytest.raises(ConnectionError) as refused:
            client.executions()
    assert refused.value.code == "connection_failed"
    with Client(server.url, token="bd_not_a_token") as client:
        with pytest.raises(AuthenticationError) as denied:
            next(client.stream("0" * 32))
    assert denied.value.code == "invalid_token"


def test_client_run_calls_return_the_execution_and_wait_returns_it_finished(sync_client):
    started = sync_client.run_command("echo started", expert=True)
    assert started.kind == "command" and started.targets == ["localhost"] and started.expert_mode
    finished = sync_client.run_task("demo::slow", params={"count": 2, "interval": 0.1}, wait=True)
    assert finished.finished and finished.status == "success" and finished.results[0].target == "localhost"
    assert finished.raw["request"]["params"] == {"count": 2, "interval": 0.1}
    package = sync_client.run_package("status", "bash", wait=True)
    assert package.kind == "package" and package.status == "success"
    puppet = sync_client.run_puppet(noop=True, tags=["ntp"], expert=True, wait=True)
    assert puppet.kind == "puppet" and "puppet agent --test --color=false --detailed-exitcodes --noop --tags ntp" in (
        puppet.command_line
    )


def test_client_history_cancel_and_rerun_of_failed_targets(sync_client):
    partial = sync_client.run_command("echo hi", targets="localhost,down01", wait=True)
    assert partial.status == "partial"
    again = sync_client.rerun(partial.id, "failed")
    assert again.targets == ["down01"] and again.raw["parentId"] == partial.id
    running = sync_client.run_command("sleep 30")
    assert sync_client.cancel(running.id).status == "cancelled"
    with pytest.raises(ConflictError):
        sync_client.cancel(running.id)
    page = sync_client.executions(status=["cancelled", "partial"], limit=50)
    assert {partial.id, running.id} <= {item.id for item in page.items} and page.total >= 2
    with pytest.raises(NotFoundError):
        sync_client.execution("0" * 32)


def test_client_stream_after_a_seq_replays_only_what_follows(sync_client):
    finished = sync_client.run_command("echo one; echo two", expert=True, wait=True)
    everything = list(sync_client.stream(finished.id))
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1)) and everything[-1].type == "complete"
    rest = list(sync_client.stream(finished.id, after=3))
    assert [e.seq for e in rest] == [e.seq for e in everything[3:]]
    assert list(sync_client.stream(finished.id, after=everything[-1].seq)) == []  # 204: nothing follows complete
