"""Percentiles and summaries of latency samples (in milliseconds)."""

from __future__ import annotations

import math
from typing import Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(k), math.ceil(k)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(samples: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, p99 and max, rounded to µs."""
    return {
        "n": len(samples),
        "p50": round(percentile(samples, 50), 3),
        "p95": round(percentile(samples, 95), 3),
        "p99": round(percentile(samples, 99), 3),
        "max": round(max(samples), 3) if samples else math.nan,
    }


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)
