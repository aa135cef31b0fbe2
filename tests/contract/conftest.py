"""Fixtures for the Bolt double contract tests.

The tests run tests/bolt_double/bolt as a real subprocess and compare what it
prints with the real-Bolt samples in tests/bolt_samples.
"""
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ..conftest import BOLT_SAMPLES

REPO = Path(__file__).resolve().parents[2]
DOUBLE_DIR = REPO / "tests" / "bolt_double"
BOLT = DOUBLE_DIR / "bolt"
PROJECT = DOUBLE_DIR / "project"


class Samples:
    """Access to the real-Bolt samples: raw .stdout/.stderr, else the .txt sections."""

    def __init__(self, root):
        self.root = root

    def _txt_sections(self, name):
        text = (self.root / (name + ".txt")).read_bytes()
        out = re.search(rb"### STDOUT:\n(.*?)### STDERR:\n", text, re.S)
        err = text.split(b"### STDERR:\n", 1)[1] if b"### STDERR:\n" in text else b""
        code = re.search(rb"### exit code: (\d+)", text)
        return (out.group(1) if out else b""), err, (int(code.group(1)) if code else None)

    def stdout(self, name):
        p = self.root / (name + ".stdout")
        return p.read_bytes() if p.exists() else self._txt_sections(name)[0]

    def stderr(self, name):
        p = self.root / (name + ".stderr")
        return p.read_bytes() if p.exists() else self._txt_sections(name)[1]

    def exit_code(self, name):
        p = self.root / (name + ".txt")
        if p.exists():
            return self._txt_sections(name)[2]
        text = self.stdout(name).decode()
        m = re.search(r"^rc=(\d+)$", text, re.M)
        return int(m.group(1)) if m else None

    def stdout_text(self, name):
        # Some raw captures end with the capturing shell's "rc=N" line.
        return re.sub(r"^rc=\d+\n?\Z", "", self.stdout(name).decode(), flags=re.M)

    def timed(self, name):
        """[(seconds, line)] from a *_timed.txt capture."""
        rows = []
        for line in (self.root / (name + ".txt")).read_text().splitlines():
            m = re.match(r"^(\d+\.\d+) \| (.*)$", line)
            if m:
                rows.append((float(m.group(1)), m.group(2)))
        return rows


@pytest.fixture(scope="session")
def samples():
    return Samples(BOLT_SAMPLES)


class Result:
    def __init__(self, returncode, stdout, stderr, duration):
        self.returncode = returncode
        self.stdout_bytes = stdout
        self.stderr_bytes = stderr
        self.stdout = stdout.decode("utf-8", "replace")
        self.stderr = stderr.decode("utf-8", "replace")
        self.duration = duration

    @property
    def lines(self):
        return self.stdout.splitlines()


def _env(extra=None):
    env = dict(os.environ)
    env.pop("BOLT_DOUBLE_VERSION", None)
    env.pop("BOLT_DOUBLE_LOG", None)
    if extra:
        env.update(extra)
    return env


@pytest.fixture(scope="session")
def bolt():
    """bolt(*argv, env=None, timeout=30, project=True) -> Result. Adds
    --project tests/bolt_double/project unless project=False."""

    def run(*argv, env=None, timeout=30, project=True, cwd=None):
        args = [str(BOLT)] + list(argv)
        if project:
            args += ["--project", str(PROJECT)]
        start = time.monotonic()
        proc = subprocess.run(args, capture_output=True, env=_env(env), timeout=timeout, cwd=cwd or str(REPO))
        return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)

    return run


class TimedRun:
    """A double started in its own process group, its stdout lines timestamped."""

    def __init__(self, argv, env=None):
        self.start = time.monotonic()
        self.proc = subprocess.Popen([str(BOLT)] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=_env(env), cwd=str(REPO), start_new_session=True)
        self.lines = []  # (seconds since start, text)
        self.stderr = b""
        self.cond = threading.Condition()
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out.start()
        self._t_err.start()

    def _read_out(self):
        with self.proc.stdout as pipe:
            for raw in iter(pipe.readline, b""):
                with self.cond:
                    self.lines.append((time.monotonic() - self.start, raw.decode("utf-8", "replace").rstrip("\n")))
                    self.cond.notify_all()

    def _read_err(self):
        with self.proc.stderr as pipe:
            self.stderr = pipe.read()

    def wait_for_line(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for _, text in self.lines:
                    if predicate(text):
                        return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)

    def wait(self, timeout=30):
        code = self.proc.wait(timeout=timeout)
        self._t_out.join(5)
        self._t_err.join(5)
        return code

    def raw_stdout(self):
        return "".join(text + "\n" for _, text in self.lines)


@pytest.fixture
def timed_bolt():
    runs = []

    def start(*argv, env=None, project=True):
        args = list(argv) + (["--project", str(PROJECT)] if project else [])
        run = TimedRun(args, env)
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.proc.poll() is None:
            try:
                os.killpg(run.proc.pid, 9)
            except ProcessLookupError:
                pass
            run.proc.wait(5)
        run.wait(5)  # the readers close the pipes at end of file


@pytest.fixture
def project_dir():
    return PROJECT


@pytest.fixture
def noisy_project(tmp_path):
    """A project with the test tasks but without disable-warnings (so Bolt's
    stream_experimental warning shows); use with -i for the test inventory."""
    (tmp_path / "bolt-project.yaml").write_text("name: demo\nlog:\n  bolt-debug.log: disable\n")
    (tmp_path / "tasks").symlink_to(REPO / "bolt-project" / "tasks")
    return tmp_path


def parse_json_line(line):
    return json.loads(line)
