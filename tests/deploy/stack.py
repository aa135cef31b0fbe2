"""The shipped deployment, started for real on 127.0.0.1: gunicorn with deploy/gunicorn.conf.py,
`boltdeck runner`, and Debian's nginx with deploy/nginx/ (only the listen address and the
upstream servers substituted, so the tested configuration is the one operators install).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ..conftest import ADMIN, ADMIN_PASSWORD, ROOT, LiveServer, stop_process

DEPLOY = ROOT / "deploy"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
NGINX_SITE = DEPLOY / "nginx" / "boltdeck.conf"
NGINX_UPSTREAM = DEPLOY / "nginx" / "boltdeck-upstream.conf"
# What the shipped files say, replaced by the test's addresses (each must occur exactly once).
SHIPPED_LISTEN = "    listen 80;\n"
SHIPPED_SERVER = "    server 127.0.0.1:8000;\n"
NGINX_MISSING = "nginx not found: apt-get install nginx"
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(ready, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start ({proc.returncode}): {log.read_text(errors='replace')}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {START_SECONDS}s: {log.read_text(errors='replace')}")


class GunicornServer(LiveServer):
    """gunicorn with the shipped config, after `boltdeck db upgrade` as docs/deployment.md says."""

    def __init__(self, tmp_path: Path, workers: int = 1, **settings):
        super().__init__(tmp_path, {"WEB_CONCURRENCY": str(workers)}, proxy_hops=1, **settings)

    def start(self) -> "GunicornServer":
        self.cli("db", "upgrade")
        self.cli("users", "create", ADMIN, "--role", "admin", stdin=ADMIN_PASSWORD + "\n")
        self.token = self.cli("tokens", "create", "--user", ADMIN, "--name", "tests").strip()
        port = free_port()
        self.env.update(BOLTDECK_HOST="127.0.0.1", BOLTDECK_PORT=str(port))
        self.url = f"http://127.0.0.1:{port}"
        with open(self.log_path, "ab") as log:  # stdout is a pipe only because LiveServer.stop closes it
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)],
                env=self.env, stdout=subprocess.PIPE, stderr=log, cwd=self.tmp_path,
            )  # fmt: skip
        _wait_for(self._healthy, self.proc, "gunicorn", self.log_path)
        return self

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")

    def _healthy(self) -> bool:
        try:
            return self.api("GET", "/api/health", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or its worker still loading the app
            return False


class Runner:
    """`boltdeck runner` on the same store and broker as a web server (no HTTP)."""

    def __init__(self, web: LiveServer):
        self.env = dict(web.env)
        self.log_path = web.tmp_path / "runner.log"
        self.cwd = web.tmp_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Runner":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "boltdeck", "runner"],
                env=self.env, stdout=subprocess.PIPE, stderr=log, cwd=self.cwd,
            )  # fmt: skip
        line = self.proc.stdout.readline()  # "Boltdeck runner <id> (pid N) ready"
        if b"ready" not in line:
            self.stop()
            raise RuntimeError(f"runner did not start: {line!r}; log: {self.log_path.read_text(errors='replace')}")
        return self

    def stop(self) -> None:
        stop_process(self.proc)


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which a non-root PATH may lack); skips the test when absent."""
    found = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if found is None:
        pytest.skip(NGINX_MISSING)
    return found


def site_listening_on(port: int) -> str:
    """The shipped site, listening on 127.0.0.1:port instead of port 80."""
    return _substituted(NGINX_SITE, SHIPPED_LISTEN, f"    listen 127.0.0.1:{port};\n")


def upstream_of(addresses: list[str]) -> str:
    """The shipped upstream block, with these web processes instead of the example one."""
    return _substituted(NGINX_UPSTREAM, SHIPPED_SERVER, "".join(f"    server {a};\n" for a in addresses))


def _substituted(path: Path, shipped: str, replacement: str) -> str:
    text = path.read_text()
    assert text.count(shipped) == 1, f"{path.relative_to(ROOT)} should hold {shipped.strip()!r} exactly once"
    return text.replace(shipped, replacement)


# The rest of an nginx.conf, as a Debian install has it, in a throwaway prefix. gzip is on for
# event streams and JSON here, as an operator may set it for the whole server: the site must undo it.
MAIN_CONF = """\
{user}worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    gzip on;
    gzip_types text/event-stream application/json;
    include {prefix}/boltdeck-upstream.conf;
    include {prefix}/boltdeck.conf;
}}
"""


class Nginx:
    """A throwaway nginx (master and one worker) in front of `upstreams`, on 127.0.0.1."""

    def __init__(self, prefix: Path, upstreams: list[str]):
        self.binary = nginx_binary()
        self.prefix = prefix
        self.upstreams = upstreams
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def start(self) -> "Nginx":
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        (self.prefix / "boltdeck.conf").write_text(site_listening_on(self.port))
        (self.prefix / "boltdeck-upstream.conf").write_text(upstream_of(self.upstreams))
        # As root, nginx's workers would switch to `nobody`, who cannot enter the test's folders.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(MAIN_CONF.format(prefix=self.prefix, user=user))
        argv = [self.binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.error_log)]
        checked = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx refuses the shipped config: {checked.stderr}"
        with open(self.prefix / "stderr.log", "ab") as log:
            self.proc = subprocess.Popen([*argv, "-g", "daemon off;"], stdout=log, stderr=log)
        _wait_for(self._accepting, self.proc, "nginx", self.error_log)
        return self

    def _accepting(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # fast shutdown: open streams are cut
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
