"""Run a command on a pseudo-terminal, as a person at a terminal would: see its screen, press Ctrl-C, answer."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

CTRL_C = b"\x03"
QUESTION = b"Cancel execution"


def run_on_terminal(
    argv: list[str], env: dict[str, str], interrupt_when: bytes | None = None, answer: bytes = b"", timeout: float = 60
) -> tuple[str, int]:
    """Start `argv` with a terminal of 120x40 as its controlling terminal; press Ctrl-C once `interrupt_when`
    is on the screen, type `answer` when asked whether to cancel; the screen's bytes (decoded) and the exit code."""
    main_fd, terminal_fd = pty.openpty()
    fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        proc = subprocess.Popen(
            argv, env={**env, "TERM": "xterm-256color"}, stdin=terminal_fd, stdout=terminal_fd, stderr=terminal_fd,
            start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )  # fmt: skip
    finally:
        os.close(terminal_fd)
    screen = _drive(main_fd, proc, interrupt_when, answer, time.monotonic() + timeout)
    return screen.decode(errors="replace"), proc.returncode


def _drive(main_fd: int, proc: subprocess.Popen, interrupt_when: bytes | None, answer: bytes, deadline: float) -> bytes:
    screen, pressed, answered = b"", False, False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(main_fd, 65536)
                except OSError:  # EIO: every process on the terminal has closed it
                    data = b""
                if not data:
                    break
                screen += data
            if not pressed and interrupt_when is not None and interrupt_when in screen:
                os.write(main_fd, CTRL_C)
                pressed = True
            if pressed and not answered and QUESTION in screen:
                os.write(main_fd, answer)
                answered = True
        proc.wait(max(0.1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main_fd)
    return screen
