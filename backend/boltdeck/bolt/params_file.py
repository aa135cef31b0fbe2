"""Hand task parameters to Bolt in a private file (`--params @FILE`), never on a command line.

Any local user can read every process's argv (/proc/PID/cmdline, `ps`); a file that only
Boltdeck's user can open keeps Sensitive values out of it, and has no argv size limit
(Linux refuses a single argument over 128 KiB).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator

# Memory-backed where the machine has it: a parameter never reaches a disk, and a file left by
# a killed server is gone at the next boot.
MEMORY_DIR = "/dev/shm"
PREFIX = "boltdeck-params-"


@contextmanager
def params_file(params: dict[str, Any]) -> Iterator[str]:
    """Write params as JSON to a 0600 file in a new 0700 folder; remove both when the block ends."""
    folder = tempfile.mkdtemp(prefix=PREFIX, dir=_memory_dir())  # mkdtemp makes it 0700
    try:
        path = os.path.join(folder, "params.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            # ASCII escapes: Ruby reads the file in the locale's encoding, which may not be UTF-8.
            json.dump(params, handle, sort_keys=True, ensure_ascii=True, allow_nan=False)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _memory_dir() -> str | None:
    """/dev/shm when it is a folder we may write to; else the system's temporary folder."""
    if os.path.isdir(MEMORY_DIR) and os.access(MEMORY_DIR, os.W_OK | os.X_OK):
        return MEMORY_DIR
    return None
