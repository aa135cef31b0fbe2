"""One Boltdeck process for the broker tests, patched by gevent first as `boltdeck serve` is.

    python -m tests.redis.peer REDIS_URL SQLITE_PATH WORKER_ID HEARTBEAT_SECONDS

It builds what a server builds (ExecutionStore, RedisBroker, StreamingExecutionManager) and
obeys JSON commands, one per stdin line; it answers with JSON lines on stdout. The pytest
process is not patched, and redis-py's blocking reads there would freeze gevent's loop:
hence a process of its own per "server".
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.fileobject import FileObjectPosix  # noqa: E402

from boltdeck.executions.log import EventLog  # noqa: E402
from boltdeck.storage import ExecutionStore  # noqa: E402
from boltdeck.streaming import HEARTBEAT, StreamingExecutionManager  # noqa: E402
from boltdeck.streaming.redis_broker import RedisBroker  # noqa: E402

QUEUE_SIZE = 1000


def say(**reply) -> None:
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


class Peer:
    def __init__(self, url: str, db_path: str, worker_id: str, heartbeat: float):
        self.store = ExecutionStore(f"sqlite:///{db_path}")
        self.broker = RedisBroker(url, worker_id)
        self.manager = StreamingExecutionManager(self.store, self.broker, heartbeat, QUEUE_SIZE)
        self.logs: dict[str, EventLog] = {}
        self.watches: dict[str, tuple] = {}

    def log(self, execution_id: str) -> EventLog:
        if execution_id not in self.logs:
            next_seq = self.store.last_seq(execution_id) + 1
            self.logs[execution_id] = EventLog(self.store, self.manager.publish, execution_id, next_seq)
        return self.logs[execution_id]

    # commands ---------------------------------------------------------------------------
    def do_follow(self, id: str) -> None:
        """Follow through the manager as a stream would; say each event, then the whole list."""

        def follow() -> None:
            seqs = []
            for item in self.manager.follow(id, 0, "test", frozenset({"start", "stdout", "complete"})):
                if item is not HEARTBEAT:
                    seqs.append(item.seq)
                    say(event=id, seq=item.seq, type=item.type, size=len(item.body))
            say(ended=id, seqs=seqs)

        before = self.broker.subscriber_count(id)
        gevent.spawn(follow)
        while self.broker.subscriber_count(id) == before:
            gevent.sleep(0.001)
        say(following=id)

    def do_watch(self, id: str) -> None:
        """Record every delivery of the broker itself (duplicates included) until `report`."""
        subscription = self.broker.subscribe(id, QUEUE_SIZE)
        record = {"seqs": [], "rereads": 0}

        def watch() -> None:
            while not subscription.closed:
                events, overflowed = subscription.get(1.0)
                record["rereads"] += overflowed
                for event in events:
                    record["seqs"].append(event.seq)
                    say(delivered=id, seq=event.seq)

        self.watches[id] = (gevent.spawn(watch), subscription, record)
        say(watching=id)

    def do_report(self, id: str) -> None:
        reader, subscription, record = self.watches.pop(id)
        subscription.close()
        reader.join()
        say(report=id, **record)

    def do_append(self, id: str, type: str, data: dict) -> None:
        say(appended=self.log(id).append(type, data).seq)

    def do_run(self, id: str, count: int, interval: float) -> None:
        """Append `start`, `count` stdout lines `interval` apart, and `complete`, in a greenlet."""

        def run() -> None:
            log = self.log(id)
            log.append("start", {})
            for i in range(count):
                log.append("stdout", {"text": f"line {i}\n"})
                gevent.sleep(interval)
            say(ran=id, last=log.append("complete", {}).seq)

        gevent.spawn(run)

    def do_store_only(self, id: str, type: str) -> None:
        """Store an event whose message is lost on the way: nothing is published."""
        self.logs.pop(id, None)
        lost = EventLog(self.store, lambda *_: None, id, self.store.last_seq(id) + 1)
        say(stored=lost.append(type, {}).seq)

    def do_listen(self, topic: str) -> None:
        self.broker.on_notice(topic, lambda message: say(notice=topic, message=message))
        say(listening=topic)

    def do_notify(self, topic: str, message: dict) -> None:
        self.broker.notify(topic, message)
        say(notified=topic)

    def close(self) -> None:
        self.broker.close()
        self.store.dispose()


def main() -> None:
    url, db_path, worker_id, heartbeat = sys.argv[1:5]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    peer = Peer(url, db_path, worker_id, float(heartbeat))
    say(ready=worker_id)
    commands = FileObjectPosix(sys.stdin.fileno(), "r", close=False)
    for line in commands:
        command = json.loads(line)
        name = command.pop("do")
        if name == "quit":
            break
        getattr(peer, f"do_{name}")(**command)
    peer.close()
    say(bye=worker_id)


if __name__ == "__main__":
    main()
