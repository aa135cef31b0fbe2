"""The suite itself: self-contained, and what a test opens, it closes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading

from .conftest import BOLT_SAMPLES, ROOT
from .streaming.sse_client import SSEStream

# A path built to leave the repository: `../shared` beside a clone, or one machine's absolute path.
OUTSIDE = re.compile(r"""parents\[[3-9]\]|/ *["']shared["']|["']shared["'] */|["']/work/""")


def test_suite_reads_nothing_outside_the_repository():
    """Bug: in a clone without ../shared beside it, 13 unit tests failed (they read the samples
    there), and the contract tests fell back to an absolute path of one machine."""
    assert (BOLT_SAMPLES / "README.md").is_file() and BOLT_SAMPLES.is_relative_to(ROOT)
    sources = [path for path in (ROOT / "tests").rglob("*.py") if BOLT_SAMPLES not in path.parents]
    offending = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in sources for match in OUTSIDE.finditer(path.read_text())]
    assert offending == []


def test_suite_a_leaked_socket_fails_the_test(tmp_path):
    """Bug: ~114 ResourceWarnings (unclosed sockets and log files) were hidden; with the suite's
    configuration a test that leaks a socket now fails, also when it is found by the collector."""
    (tmp_path / "test_leak.py").write_text(
        "import gc, socket\n\ndef test_leak():\n    socket.socket()\n    gc.collect()\n"
    )
    pytest_command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path)]
    done = subprocess.run(
        [*pytest_command, "-p", "no:cacheprovider", "-q", str(tmp_path / "test_leak.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "ResourceWarning: unclosed <socket.socket" in done.stdout


def test_suite_sse_client_close_releases_the_socket():
    """Bug: SSEStream.close() closed the socket but not the file reading it, so the descriptor
    stayed open until garbage collection (an unclosed-socket warning, a server slot held)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        answer = threading.Thread(target=_answer_one_stream, args=(listener,), daemon=True)
        answer.start()
        stream = SSEStream(f"http://127.0.0.1:{listener.getsockname()[1]}/stream")
        assert stream.status == 200
        stream.close()
        answer.join(10)
    assert stream.sock.fileno() == -1 and stream.file.closed


def _answer_one_stream(listener: socket.socket) -> None:
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n: ping\n\n")
        connection.recv(1)  # until the client closes
