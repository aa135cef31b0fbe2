"""A bad BOLTDECK_BROKER_URL stops the start with a message naming the setting and the problem.

These run in the pytest process: the broker raises before it spawns a greenlet, so no
gevent loop is involved, and the connection attempt is an ordinary blocking one.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from boltdeck.errors import ConfigError
from boltdeck.streaming.redis_broker import RedisBroker

from ..redis_server import RedisServer, _free_port
from .conftest import ROOT

SECRET = "s3cret-pw"


def _refusal(url: str) -> str:
    with pytest.raises(ConfigError) as refused:
        RedisBroker(url, "w1")
    message = refused.value.message
    assert "BOLTDECK_BROKER_URL" in message and SECRET not in message
    return message


def test_redis_broker_url_with_another_scheme_is_refused():
    message = _refusal(f"http://user:{SECRET}@127.0.0.1:6379/0")
    assert "redis://, rediss:// or unix://" in message and "http://user:***@127.0.0.1:6379/0" in message


def test_redis_broker_url_that_does_not_parse_is_refused():
    assert "not a valid Redis URL" in _refusal(f"redis://:{SECRET}@127.0.0.1:port/0")


def test_redis_broker_unreachable_redis_is_named():
    port = _free_port()  # nothing listens there
    message = _refusal(f"redis://:{SECRET}@127.0.0.1:{port}/0")
    assert "cannot reach Redis" in message and f"127.0.0.1:{port}" in message


def test_redis_broker_wrong_password_is_named(tmp_path):
    server = RedisServer(tmp_path / "redis", password="the right one").start()
    try:
        assert "refused the credentials" in _refusal(f"redis://:{SECRET}@127.0.0.1:{server.port}/0")
    finally:
        server.stop()


def test_redis_broker_without_the_redis_package_says_what_to_install():
    script = (
        "import sys; sys.modules['redis'] = None\n"  # what `import redis` meets when it is not installed
        "from boltdeck.errors import ConfigError\n"
        "from boltdeck.streaming.redis_broker import RedisBroker\n"
        "try:\n    RedisBroker('redis://127.0.0.1:6379/0', 'w1')\n"
        "except ConfigError as error:\n    print(error.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "BOLTDECK_BROKER_URL" in done.stdout and "pip install 'boltdeck[redis]'" in done.stdout
