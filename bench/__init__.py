"""Boltdeck's benchmarks: `python -m bench [--quick|--smoke]` (see docs/performance.md)."""
