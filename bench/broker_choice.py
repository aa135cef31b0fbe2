"""Which Redis design carries live events between processes: measured, not guessed.

    python -m bench.broker_choice [--events 500] [--subscribers 100] [--interval 0.01]

Two processes share one SQLite store and a throwaway redis-server: a publisher appends one
output line every `interval` seconds to one execution (EventLog: store, then publish), and a
subscriber process follows that execution with `subscribers` streams through the manager, as
SSE streams do. Three designs, each behind the same RedisBroker and manager code:

- event:   pub/sub messages carry the event (seq, type, target, body): the chosen design;
- wakeup:  pub/sub messages only say "execution X has news": each stream re-reads the store;
- streams: the event carried through a Redis stream (XADD / XREAD BLOCK) instead of pub/sub.

Per design: delivery latency (append called -> event in a stream's hands), the CPU the
subscriber process spends per delivery, the publisher's CPU per event, and redis-server's.
The figures are in docs/architecture.md, "Fan-out across processes".
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "--role" in sys.argv:
    from gevent import monkey  # a role is a Boltdeck process: patched first, as `boltdeck serve` is

    monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXECUTION = "bench-execution"
DESIGNS = ("event", "wakeup", "streams")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broker_choice", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("--role", choices=("publisher", "subscriber"))
    parser.add_argument("--design", choices=DESIGNS)
    parser.add_argument("--redis-url")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.role == "publisher":
        publisher(args)
    elif args.role == "subscriber":
        subscriber(args)
    else:
        compare(args)


# the two processes -------------------------------------------------------------------------
def broker(args):
    from boltdeck.streaming.redis_broker import RedisBroker

    if args.design == "wakeup":
        return RedisBroker(args.redis_url, args.role, max_carried_chars=0)  # every message a wake-up
    if args.design == "streams":
        return streams_broker(args.redis_url, args.role)
    return RedisBroker(args.redis_url, args.role)


def publisher(args) -> None:
    import gevent

    from boltdeck.executions.log import EventLog
    from boltdeck.storage import ExecutionStore

    store = ExecutionStore(f"sqlite:///{args.db}")
    events = broker(args)
    log = EventLog(store, events.publish, EXECUTION)
    gevent.sleep(0.5)  # the listener subscribed
    cpu = _cpu()
    log.append("start", {})
    for i in range(args.events):
        log.append("stdout", {"text": f"line {i} of some ordinary output, about as long as most\n", "t": time.time()})
        gevent.sleep(args.interval)
    log.append("complete", {})
    print(json.dumps({"cpu": _cpu() - cpu}), flush=True)
    events.close()
    store.dispose()


def subscriber(args) -> None:
    import gevent

    from boltdeck.storage import ExecutionStore
    from boltdeck.streaming import HEARTBEAT, StreamingExecutionManager

    store = ExecutionStore(f"sqlite:///{args.db}")
    events = broker(args)
    manager = StreamingExecutionManager(store, events, heartbeat_seconds=60, queue_size=1000)
    received: list[tuple[int, float]] = []

    def follow() -> None:
        for item in manager.follow(EXECUTION, 0, "bench", frozenset({"start", "stdout", "complete"})):
            if item is not HEARTBEAT:
                received.append((item.seq, time.time()))

    followers = [gevent.spawn(follow) for _ in range(args.subscribers)]
    gevent.sleep(0.5)  # subscribed, listener too
    cpu = _cpu()
    print(json.dumps({"ready": True}), flush=True)
    gevent.joinall(followers)
    cpu = _cpu() - cpu
    sent = {e.seq: json.loads(e.body)["data"].get("t") for e in store.read_events(EXECUTION, after=0, limit=10**6)}
    latencies = [arrived - sent[seq] for seq, arrived in received if sent.get(seq)]
    print(json.dumps({"cpu": cpu, "deliveries": len(received), "latencies": latencies}), flush=True)
    events.close()
    store.dispose()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def streams_broker(url: str, worker_id: str):
    from boltdeck.streaming.redis_broker import PUBLISH_BATCH, RedisBroker

    class StreamsBroker(RedisBroker):
        """The same broker over Redis streams (XADD / XREAD BLOCK): for this comparison only."""

        def _send_forever(self) -> None:
            while True:
                self._outbox_ready.wait()
                self._outbox_ready.clear()
                while self._outbox:
                    batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), PUBLISH_BATCH))]
                    with self._redis.pipeline(transaction=False) as pipe:
                        for channel, message in batch:
                            pipe.xadd(channel, {"m": message}, maxlen=10_000, approximate=True)
                        pipe.execute()
                if self._closing:
                    return

        def _listen_forever(self) -> None:
            last = {self._events_channel: "$", self._notices_channel: "$"}
            while True:
                for stream, entries in self._redis.xread(last, block=1000) or ():
                    for entry_id, fields in entries:
                        last[stream] = entry_id
                        self._receive(stream, fields[b"m"])

    return StreamsBroker(url, worker_id)


# the comparison ----------------------------------------------------------------------------
def compare(args) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.redis_server import RedisServer

    print(f"{args.events} events, one per {args.interval * 1000:g} ms; {args.subscribers} streams in another process")
    print(f"{'design':8} {'latency p50':>12} {'p99':>9} {'sub CPU/delivery':>17} {'pub CPU/event':>14} {'redis CPU/event':>16}")
    for design in DESIGNS:
        with tempfile.TemporaryDirectory() as folder:
            server = RedisServer(Path(folder) / "redis").start()
            try:
                row = run_design(args, design, server, Path(folder) / "bench.sqlite3")
            finally:
                server.stop()
        print(
            f"{design:8} {row['p50'] * 1e3:10.2f}ms {row['p99'] * 1e3:7.2f}ms {row['sub'] * 1e6:15.1f}µs"
            f" {row['pub'] * 1e6:12.1f}µs {row['redis'] * 1e6:14.1f}µs  ({row['deliveries']} deliveries)"
        )


def run_design(args, design: str, server, db: Path) -> dict:
    from boltdeck.storage import ExecutionStore

    ExecutionStore(f"sqlite:///{db}").dispose()  # the schema, before two processes race to create it
    common = ["--design", design, "--redis-url", server.url, "--db", str(db)]
    common += ["--events", str(args.events), "--subscribers", str(args.subscribers), "--interval", str(args.interval)]
    role = lambda name: subprocess.Popen(  # noqa: E731
        [sys.executable, "-m", "bench.broker_choice", "--role", name, *common], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    with role("subscriber") as sub:
        json.loads(sub.stdout.readline())  # ready
        redis_cpu = _process_cpu(server.proc.pid)
        with role("publisher") as pub:
            published = json.loads(pub.stdout.readline())
        received = json.loads(sub.stdout.readline())
        redis_cpu = _process_cpu(server.proc.pid) - redis_cpu
    events = args.events + 2
    latencies = sorted(received["latencies"])
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99)],
        "sub": received["cpu"] / received["deliveries"],
        "pub": published["cpu"] / events,
        "redis": redis_cpu / events,
        "deliveries": received["deliveries"],
    }


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


if __name__ == "__main__":
    main()
