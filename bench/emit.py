"""Print timestamped lines for the benchmarks (stdlib only; runs as the command Bolt executes).

    emit.py sparse --count N --interval-ms MS [--go FILE]
    emit.py burst --bursts B --lines L --gap-ms MS [--go FILE]
    emit.py bulk --bytes N [--line-bytes 100]
    emit.py once

Every timed line is `t=<time.time_ns() just before the write> i=<index>`, written with its own
write(2), so a reader can compute (arrival - print) per line. `--go FILE` waits (at most 60 s)
until FILE exists before the first line, so that subscribers are connected before output starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

GO_TIMEOUT_SECONDS = 60.0


def _wait_for(path: str | None) -> None:
    if not path:
        return
    deadline = time.monotonic() + GO_TIMEOUT_SECONDS
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.002)


def _line(index: int, pad: int = 0) -> bytes:
    return b"t=%d i=%d%s\n" % (time.time_ns(), index, b" " + b"x" * pad if pad else b"")


def sparse(count: int, interval: float) -> None:
    start = time.monotonic()
    for i in range(count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        os.write(1, _line(i))


def burst(bursts: int, lines: int, gap: float, pad: int) -> None:
    index = 0
    for b in range(bursts):
        if b:
            time.sleep(gap)
        for _ in range(lines):
            os.write(1, _line(index, pad))
            index += 1


def bulk(total: int, line_bytes: int) -> None:
    line = b"y" * (line_bytes - 1) + b"\n"
    block = line * max(1, 65536 // line_bytes)
    written = 0
    out = sys.stdout.buffer
    while written + len(block) <= total:
        out.write(block)
        written += len(block)
    rest = total - written
    if rest:
        out.write(line * (rest // line_bytes) + b"z" * (rest % line_bytes))
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emit.py")
    parser.add_argument("mode", choices=["sparse", "burst", "bulk", "once"])
    parser.add_argument("--go")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--interval-ms", type=float, default=50.0)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=250.0)
    parser.add_argument("--pad", type=int, default=60)
    parser.add_argument("--bytes", type=int, default=50_000_000)
    parser.add_argument("--line-bytes", type=int, default=100)
    args = parser.parse_args(argv)
    _wait_for(args.go)
    if args.mode == "sparse":
        sparse(args.count, args.interval_ms / 1000.0)
    elif args.mode == "burst":
        burst(args.bursts, args.lines, args.gap_ms / 1000.0, args.pad)
    elif args.mode == "bulk":
        bulk(args.bytes, args.line_bytes)
    else:
        os.write(1, _line(0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
