"""A stream cut mid-run (by a proxy in between) is resumed: no line lost, none repeated, `retry:` honoured."""

from __future__ import annotations

import re

import pytest

from boltdeck.client import AsyncClient, Client, StreamEndedError

from .conftest import run_coroutine

# 12 lines 100 ms apart (expert mode: about 200 bytes a line); the cut, 1,500 bytes after the
# stream's Content-Type, lands in the third line's frame: two lines before it, ten after.
LINES = 'for i in $(seq 1 12); do echo "line $i of 12"; sleep 0.1; done'
CUT_AFTER = 1500
RETRY_SECONDS = 3.0  # the shared server's BOLTDECK_SSE_RETRY_MS (default 3000)


def _check_resumed(proxy, chunks, server) -> None:
    assert proxy.cut_at is not None, "the proxy never cut the stream"
    assert proxy.resumed_at is not None, "the client never came back with Last-Event-ID"
    assert proxy.resumed_at - proxy.cut_at >= RETRY_SECONDS - 0.1, "the client did not wait the server's retry:"
    resumed_after = int(re.search(rb"last-event-id: *([0-9]+)", proxy.resume_headers[0].lower()).group(1))
    lines = [c for c in chunks if c.type == "stdout"]
    assert lines[0].seq <= resumed_after < lines[-1].seq, "the cut did not fall between two lines of output"
    streamed = "".join(c.output for c in lines)
    execution = server.wait_final(chunks[-1].execution_id)
    assert streamed == execution["results"][0]["stdout"] == "".join(f"line {i} of 12\n" for i in range(1, 13))
    assert chunks[-1].done and chunks[-1].status == "success"
    assert [c.seq for c in chunks] == sorted(set(c.seq for c in chunks)), "an event was handed out twice"


def test_resume_sync_exec_stream_after_the_connection_is_cut(server, cutting_proxy):
    proxy = cutting_proxy(CUT_AFTER)
    with Client(proxy.url, token=server.token, targets="localhost") as client:
        chunks = list(client.exec_stream(LINES))
    _check_resumed(proxy, chunks, server)


def test_resume_async_exec_stream_after_the_connection_is_cut(server, cutting_proxy):
    proxy = cutting_proxy(CUT_AFTER)

    async def follow():
        async with AsyncClient(proxy.url, token=server.token, targets="localhost") as client:
            return [chunk async for chunk in client.exec_stream(LINES)]

    _check_resumed(proxy, run_coroutine(follow()), server)


def test_resume_gives_up_with_stream_ended_error_naming_the_last_event(server, cutting_proxy, sync_client):
    running = sync_client.run_command("sleep 30", expert=True)
    proxy = cutting_proxy(CUT_AFTER)
    try:
        with Client(proxy.url, token=server.token, reconnect_attempts=1) as client:
            events = client.stream(running.id)
            first = next(events)
            proxy.close()  # the server is gone for this client: every reconnection fails
            with pytest.raises(StreamEndedError) as ended:
                list(events)
    finally:
        sync_client.cancel(running.id)
    error = ended.value
    assert error.code == "stream_ended" and error.execution_id == running.id
    assert error.last_seq >= first.seq and "without its complete event" in error.message
