"""The benchmarks at tiny sizes, so that their code cannot rot: no assertion on any timing."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every scenario but `scaleout`, which needs PostgreSQL and Redis and has a test of its own below.
SCENARIOS = {"latency", "throughput", "fanout", "idle", "overhead", "history", "first_output", "storage"}


def _smoke(tmp_path: Path, *scenarios: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "smoke.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the history file is generated, not taken from ~/.cache
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", *scenarios, "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done, json.loads(out.read_text())


def test_bench_smoke_reports_every_scenario_with_a_baseline(tmp_path):
    done, data = _smoke(tmp_path, *sorted(SCENARIOS))

    assert set(data["scenarios"]) == SCENARIOS
    for name, scenario in data["scenarios"].items():
        assert scenario["error"] is None, (name, scenario["notes"])
        assert scenario["baseline"].get("what"), name
        measured = [row for row in scenario["rows"] if row["boltdeck"] is not None]
        assert measured, name
        assert any(isinstance(row["baseline"], (int, float)) for row in measured), f"{name} has no baseline figure"
    assert data["scenarios"]["fanout"]["figures"]["all_received"] is True
    assert data["scenarios"]["throughput"]["figures"]["runs"][0]["stdout_bytes"] == 200_000
    assert "scenario" in done.stdout and "baseline" in done.stdout  # the table was printed


def _smoke_needing(tmp_path: Path, name: str, needs: str) -> dict:
    """One scenario at smoke size, without error; skipped with the line of `needs`.missing() if that names anything."""
    sys.path.insert(0, str(ROOT))
    absent = importlib.import_module(needs).missing()
    if absent:
        pytest.skip(absent)
    _, data = _smoke(tmp_path, name)
    scenario = data["scenarios"][name]
    assert scenario["error"] is None, scenario["notes"]
    return scenario


def test_bench_smoke_scaleout_loses_no_line_beside_one_process(tmp_path):
    scenario = _smoke_needing(tmp_path, "scaleout", "bench.services")
    scaled, one = scenario["figures"]["scale_out"], scenario["baseline"]["one_process"]
    for figures in (scaled, one):
        assert figures["deliveries"] == figures["viewers"] * figures["lines"] * figures["runs"], figures
        assert (figures["lines_lost"], figures["duplicates"]) == (0, 0), figures
    assert len(scaled["rss_kib_per_web_process"]) == scenario["figures"]["workers"] == 2
    assert scaled["cpu_s"]["runner"] > 0 and one["cpu_s"]["runner"] == 0  # the runner, not a web worker, ran it
    assert scenario["met"] is True


def test_bench_smoke_fleet_page_measures_the_streamed_page_and_its_replay(tmp_path):
    scenario = _smoke_needing(tmp_path, "fleet_page", "bench.scenarios.fleet_page")
    assert scenario["baseline"]["what"]
    targets = scenario["figures"]["targets"]
    for figures in scenario["figures"]["runs"] + scenario["baseline"]["runs"]:
        # what the page showed: every target's result, and the three outliers the lock directories make
        assert (figures["results_counted"], figures["failures_counted"]) == (targets, 3), figures
        assert figures["fleetDraws"] > 0 and figures["seconds"] > 0, figures
        assert all(figures[key] >= 0 for key in ("longestTaskMs", "longTasks", "longestFleetFrameMs")), figures
    measured = {row["measure"].split(" (")[0]: row for row in scenario["rows"]}
    for measure in (f"longest task while {targets} targets stream", "fleet view's longest frame"):
        assert isinstance(measured[measure]["boltdeck"], (int, float)), measure
        assert isinstance(measured[measure]["baseline"], (int, float)), measure


def test_bench_sse_parser_times_each_frame_by_its_last_byte():
    sys.path.insert(0, str(ROOT))
    from bench.sse import parse_response

    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = [(1, head + b"d\r\nretry: 3000\n\n\r\n"), (2, b"1e\r\nid: 1\nevent: stdout\ndata: {}"), (3, b"\n\n\r\n0\r\n\r\n")]
    status, headers, frames = parse_response(chunks)
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    assert [(f.arrived_ns, f.id, f.event, f.data) for f in frames] == [(1, None, None, None), (3, 1, "stdout", "{}")]


def test_bench_stream_set_sends_its_headers_with_every_stream():
    """Regression: the bench's raw SSE streams carried no API token and were all answered 401."""
    import socket
    import threading

    sys.path.insert(0, str(ROOT))
    from bench.sse import StreamSet

    heads: list[bytes] = []

    def answer(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            heads.append(head)
            conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=answer, args=(listener,), daemon=True)
        server.start()
        streams = StreamSet(listener.getsockname()[1], headers={"Authorization": "Bearer t0ken"})
        try:
            streams.open("/api/x", 1, headers={"X-Extra": "1"}, timeout=10)
        finally:
            streams.close()
        server.join(10)
    assert b"\r\nAuthorization: Bearer t0ken\r\n" in heads[0] and b"\r\nX-Extra: 1\r\n" in heads[0]
