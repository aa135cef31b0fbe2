"""Start `boltdeck serve` on 127.0.0.1 for a scenario, talk HTTP to it as its admin, read its memory."""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from boltdeck.bolt import argv as bolt_argv
from boltdeck.bolt.cli import bolt_environment

from .sse import StreamSet

ROOT = Path(__file__).resolve().parents[1]
BOLT_DOUBLE = ROOT / "tests" / "bolt_double" / "bolt"
TEST_PROJECT = ROOT / "tests" / "bolt_double" / "project"
EMIT = Path(__file__).resolve().parent / "emit.py"
START_TIMEOUT_SECONDS = 60
CLI_TIMEOUT_SECONDS = 60
BENCH_USER = "bench"
# Far above what any scenario holds at once (5,000 idle streams, 1,000 subscribers), so that
# the per-user stream limit never refuses a benchmark's own streams.
MAX_STREAMS_PER_USER = 100_000


def bolt_bin() -> str:
    """The bolt to benchmark: BOLTDECK_BOLT_BIN when given, else the test double."""
    return os.environ.get("BOLTDECK_BOLT_BIN") or str(BOLT_DOUBLE)


def bolt_project() -> str:
    return os.environ.get("BOLTDECK_BOLT_PROJECT") or str(TEST_PROJECT)


def raise_open_file_limit() -> int:
    """Lift the soft RLIMIT_NOFILE to the hard limit; children (the server) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (from /proc)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emit_command(*args: str) -> str:
    """The shell command line that runs bench/emit.py with this interpreter."""
    import shlex

    return " ".join(shlex.quote(a) for a in (sys.executable, str(EMIT), *args))


def direct_argv(command: str, targets: list[str], project: str | None = None) -> list[str]:
    """The argv Boltdeck builds for a command run (same builder), for the direct baseline."""
    return bolt_argv.command_run(_resolved_bolt(), command, targets, project or bolt_project())


def run_direct(argv: list[str], project: str | None = None, timeout: float = 600) -> float:
    """Run bolt directly with output to /dev/null; return the wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=bolt_environment(),
        cwd=project or bolt_project(),
        timeout=timeout,
        check=False,
    )
    return time.perf_counter() - started


def _decode(response: http.client.HTTPResponse, raw: bytes) -> Any:
    kind = response.getheader("Content-Type", "")
    return json.loads(raw) if "json" in kind else raw.decode("utf-8", "replace")


def _resolved_bolt() -> str:
    found = shutil.which(bolt_bin())
    return os.path.abspath(found) if found else bolt_bin()


class BenchServer:
    """A real `python -m boltdeck serve --port 0` with its own SQLite file and settings."""

    def __init__(self, workdir: Path | None = None, **settings: Any):
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="boltdeck-bench-"))
        self.db_path = self.workdir / "boltdeck.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOLTDECK_")}
        env.update(
            {
                "BOLTDECK_DATABASE_URL": f"sqlite:///{self.db_path}",
                "BOLTDECK_BOLT_BIN": _resolved_bolt(),
                "BOLTDECK_BOLT_PROJECT": bolt_project(),
                "BOLTDECK_LOG_LEVEL": "WARNING",
                "BOLTDECK_INVENTORY_CACHE_SECONDS": "3600",
                "BOLTDECK_MAX_STREAMS_PER_USER": str(MAX_STREAMS_PER_USER),
            }
        )
        env.update({f"BOLTDECK_{k.upper()}": str(v) for k, v in settings.items()})
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.token = ""
        self._conn: http.client.HTTPConnection | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def auth_headers(self) -> dict[str, str]:
        """The header every request to /api/* carries: the bench admin's API token."""
        return {"Authorization": f"Bearer {self.token}"}

    def stream_set(self) -> StreamSet:
        """A StreamSet on this server whose every stream sends the API token."""
        return StreamSet(self.port, headers=self.auth_headers)

    def provision(self) -> None:
        """Create the admin user and an API token with the CLI, in the database the server will use."""
        if self.token:
            return
        self._manage(["users", "create", BENCH_USER, "--role", "admin"], stdin=secrets.token_urlsafe(24) + "\n")
        self.token = self._manage(["tokens", "create", "--user", BENCH_USER, "--name", "bench"]).strip()
        if not self.token:
            raise RuntimeError("`boltdeck tokens create` printed no token")

    def _manage(self, args: list[str], stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "boltdeck", *args], env=self.env, cwd=self.workdir, input=stdin,
            capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"`boltdeck {' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done.stdout

    def start(self) -> "BenchServer":
        """Provision the admin and its token, then start the server and wait for its address."""
        self.provision()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "boltdeck", "serve", "--host", "127.0.0.1", "--port", "0"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=open(self.workdir / "server.log", "ab"),
            cwd=self.workdir,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            match = re.search(rb"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                return self
            if not line and self.proc.poll() is not None:
                break
        self.stop()
        log = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"boltdeck did not start; its log ends with:\n{log}")

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def remove_workdir(self) -> None:
        """Delete the server's files (its SQLite file reaches hundreds of MB in some scenarios)."""
        if self._own_workdir and not os.environ.get("BENCH_KEEP_SERVER_DIRS"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "BenchServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
        self.remove_workdir()

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    # HTTP -------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, timeout: float = 120,
                fresh: bool = False) -> tuple[int, Any]:
        """One request on the kept-alive connection (or a new one); answers (status, JSON or text)."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = dict(self.auth_headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if fresh:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                conn.request(method, path, body=payload, headers={**headers, "Connection": "close"})
                response = conn.getresponse()
                raw = response.read()
            finally:
                conn.close()
            return response.status, _decode(response, raw)
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self._conn.timeout = timeout
                if self._conn.sock is not None:
                    self._conn.sock.settimeout(timeout)
                self._conn.request(method, path, body=payload, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        return response.status, _decode(response, raw)

    def run_command(self, command: str, targets: list[str], wait: bool = False, fresh: bool = False,
                    **extra: Any) -> dict:
        body = {"targets": targets, "command": command, "expertMode": True, **extra}
        path = "/api/commands" + ("?wait=true" if wait else "")
        status, answer = self.request("POST", path, body, timeout=600, fresh=fresh)
        if status not in (200, 202):
            raise RuntimeError(f"run request failed: {status} {answer}")
        return answer

    def wait_final(self, execution_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, body = self.request("GET", f"/api/executions/{execution_id}")
            if body["status"] not in ("queued", "running"):
                return body
            time.sleep(0.05)
        raise TimeoutError(f"execution {execution_id} did not finish within {timeout}s")

    def subscribers(self) -> int:
        _, body = self.request("GET", "/api/streaming/stats")
        return int(body["subscribers"]["total"])
