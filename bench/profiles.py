"""Size profiles: `full` is the issue's sizes, `quick` about a minute, `smoke` a few seconds for CI."""

from __future__ import annotations

PROFILES: dict[str, dict] = {
    "full": {
        "latency": {"sparse_lines": 200, "interval_ms": 50, "bursts": 10, "burst_lines": 200, "gap_ms": 250,
                    "subscribers": [1, 100]},
        "throughput": {"bytes": 50_000_000, "line_bytes": 100, "runs": 2},
        "fanout": {"subscribers": 1000, "lines": 100, "interval_ms": 50, "slow_lines": 25, "slow_interval_ms": 200},
        "idle": {"streams": 5000, "heartbeat_seconds": 2, "hold_seconds": 6},
        "overhead": {"targets": 50, "runs": 15, "warmup": 3},
        "history": {"executions": 100_000, "requests": 200},
        "first_output": {"runs": 20, "warmup": 3},
        "scaleout": {"viewers": 1000, "workers": 4, "seconds": 10, "interval_ms": 50, "rounds": 2},
        "storage": {"bytes": 50_000_000, "runs": 3},
        "fleet_page": {"targets": 200, "runs": 3, "sleep_seconds": 2, "sleep_spread": 4},
    },
    "quick": {
        "latency": {"sparse_lines": 40, "interval_ms": 50, "bursts": 3, "burst_lines": 200, "gap_ms": 250,
                    "subscribers": [1, 100]},
        "throughput": {"bytes": 10_000_000, "line_bytes": 100, "runs": 1},
        "fanout": {"subscribers": 1000, "lines": 20, "interval_ms": 50, "slow_lines": 8, "slow_interval_ms": 200},
        "idle": {"streams": 2000, "heartbeat_seconds": 1, "hold_seconds": 2.5},
        "overhead": {"targets": 50, "runs": 5, "warmup": 3},
        "history": {"executions": 100_000, "requests": 20},
        "first_output": {"runs": 7, "warmup": 3},
        "scaleout": {"viewers": 200, "workers": 2, "seconds": 3, "interval_ms": 50, "rounds": 2},
        "storage": {"bytes": 20_000_000, "runs": 2},
        "fleet_page": {"targets": 200, "runs": 1, "sleep_seconds": 2, "sleep_spread": 4},
    },
    "smoke": {
        "latency": {"sparse_lines": 5, "interval_ms": 20, "bursts": 1, "burst_lines": 20, "gap_ms": 50,
                    "subscribers": [1, 3]},
        "throughput": {"bytes": 200_000, "line_bytes": 100, "runs": 1},
        "fanout": {"subscribers": 10, "lines": 5, "interval_ms": 20, "slow_lines": 2, "slow_interval_ms": 50},
        "idle": {"streams": 20, "heartbeat_seconds": 1, "hold_seconds": 1.5},
        "overhead": {"targets": 3, "runs": 1, "warmup": 1},
        "history": {"executions": 300, "requests": 5},
        "first_output": {"runs": 1, "warmup": 1},
        "scaleout": {"viewers": 10, "workers": 2, "seconds": 0.5, "interval_ms": 50, "rounds": 1},
        "storage": {"bytes": 6_000_000, "runs": 1},
        "fleet_page": {"targets": 20, "runs": 1, "sleep_seconds": 1, "sleep_spread": 2},
    },
}
