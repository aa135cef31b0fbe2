"""A deployment per topology of docs/deployment.md: nginx in front of gunicorn's gevent workers."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from ..pg import fresh_database_url
from ..redis_server import RedisServer
from .stack import GunicornServer, Nginx, Runner, nginx_binary


@dataclass(frozen=True)
class Topology:
    workers: int
    scale_out: bool  # PostgreSQL, Redis, web-only workers and a `boltdeck runner`; else the suite's store

    def __str__(self) -> str:
        return f"scale-out-{self.workers}-workers" if self.scale_out else f"single-{self.workers}-worker"


TOPOLOGIES = [Topology(workers=1, scale_out=False), Topology(workers=2, scale_out=True)]


@dataclass
class Deployment:
    web: GunicornServer
    nginx: Nginx


@pytest.fixture(scope="module", params=TOPOLOGIES, ids=str)
def deployment(request, tmp_path_factory):
    nginx_binary()  # skip before starting anything when nginx is missing
    topology: Topology = request.param
    folder = tmp_path_factory.mktemp(str(topology))
    with ExitStack() as stack:
        settings = {}
        if topology.scale_out:
            redis = RedisServer(folder / "redis").start()
            stack.callback(redis.stop)
            settings = {"database_url": fresh_database_url(), "broker_url": redis.url, "role": "web"}
        web = GunicornServer(folder / "web", workers=topology.workers, **settings)
        web.tmp_path.mkdir()
        stack.callback(web.stop)
        web.start()
        if topology.scale_out:
            runner = Runner(web)
            stack.callback(runner.stop)
            runner.start()
        nginx = Nginx(folder / "nginx", [web.address])
        stack.callback(nginx.stop)
        yield Deployment(web, nginx.start())
