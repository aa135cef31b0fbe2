"""BoltCli: find the bolt executable and ask it for its version, inventory, tasks and facts."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent
from gevent import subprocess

from ..errors import BoltError, BoltUnavailableError, NotFoundError
from . import argv as bolt_argv
from .inventory import Inventory
from .parser import classify_stdout, decode, result_of
from .tasks import TaskMetadata

QUERY_TIMEOUT_SECONDS = 120
MIN_REFRESH_SECONDS = 2.0  # a flood of bad names cannot make Boltdeck spawn bolt per request


def bolt_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment bolt runs with: ours, plus BOLT_GEM=1 to silence the gem warning."""
    env = dict(os.environ)
    env["BOLT_GEM"] = "1"
    env.update(extra or {})
    return env


@dataclass
class _Cached:
    value: Any
    at: float


@dataclass
class BoltCli:
    """Read-only conversations with bolt, cached for a while; runs go through executions."""

    bin: str
    project: str
    cache_seconds: float = 30.0
    facts_cache_seconds: float = 300.0
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _refreshing: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Bolt runs inside the project folder, where a relative --project would name a folder below
        # it: resolve against the working directory Boltdeck started in, once.
        self.project = os.path.abspath(os.path.expanduser(self.project))

    def path(self) -> str | None:
        """Absolute path of the bolt executable, or None when it cannot be found."""
        if os.sep in self.bin:
            return os.path.abspath(self.bin) if os.access(self.bin, os.X_OK) else None
        return shutil.which(self.bin)

    def require_path(self) -> str:
        path = self.path()
        if path is None:
            raise BoltUnavailableError(
                f"the bolt executable {self.bin!r} was not found; install Bolt or set BOLTDECK_BOLT_BIN",
                details={"setting": "BOLTDECK_BOLT_BIN", "value": self.bin},
            )
        return path

    def version(self) -> str | None:
        """Bolt's version, or None when bolt is missing or does not answer."""
        if self.path() is None:
            return None
        try:
            return self._cached("version", self.cache_seconds, self._read_version)
        except BoltError:
            return None

    def inventory(self, fresh: bool = False) -> Inventory:
        """The inventory; `fresh` re-reads it now (for example before rejecting an unknown name)."""
        hit = self._cache.get("inventory")
        if fresh and hit and time.monotonic() - hit.at >= MIN_REFRESH_SECONDS:
            self._cache.pop("inventory", None)
        return self._cached("inventory", self.cache_seconds, self._read_inventory)

    def task_list(self) -> list[dict[str, Any]]:
        return self._cached("tasks", self.cache_seconds, self._read_task_list)

    def task(self, name: str) -> TaskMetadata:
        return self._cached(f"task:{name}", self.cache_seconds, lambda: self._read_task(name))

    def facts(self, target: str) -> dict[str, Any]:
        return self._cached(f"facts:{target}", self.facts_cache_seconds, lambda: self._read_facts(target))

    def forget(self) -> None:
        self._cache.clear()

    # readers ----------------------------------------------------------------------------
    def _read_version(self) -> str:
        out = self._run(bolt_argv.version(self.require_path()))
        return out.strip().splitlines()[-1] if out.strip() else "unknown"

    def _read_inventory(self) -> Inventory:
        return Inventory.from_detail(self._run_json(bolt_argv.inventory_show(self.require_path(), self.project)))

    def _read_task_list(self) -> list[dict[str, Any]]:
        data = self._run_json(bolt_argv.task_show(self.require_path(), self.project))
        return [{"name": name, "description": desc} for name, desc in data.get("tasks", [])]

    def _read_task(self, name: str) -> TaskMetadata:
        try:
            data = self._run_json(bolt_argv.task_show(self.require_path(), self.project, name))
        except BoltError as exc:
            if "unknown-task" in str(exc.details.get("kind", "")):
                raise NotFoundError(f"task {name!r} does not exist in the Bolt project", details={"task": name}) from None
            raise
        return TaskMetadata.from_show(data)

    def _read_facts(self, target: str) -> dict[str, Any]:
        out = self._run(bolt_argv.facts_run(self.require_path(), target, self.project), check=False)
        for raw in out.splitlines():
            line = classify_stdout(raw)
            if line.kind == "item":
                result = result_of(line.payload)
                if result["status"] != "success":
                    raise BoltError(
                        f"gathering facts on {target} failed: {(result['error'] or {}).get('message')}",
                        details={"target": target, "error": result["error"]},
                    )
                return result["value"] or {}
            if line.kind == "error":
                raise BoltError(line.payload.get("msg", "bolt failed"), details={"kind": line.payload.get("kind")})
        raise BoltError(f"bolt printed no facts for {target}", details={"output": out[-2000:]})

    # plumbing ---------------------------------------------------------------------------
    def _cached(self, key: str, ttl: float, load: Callable[[], Any]) -> Any:
        """Serve from cache; a stale entry is served while one greenlet reloads it (Bolt is slow)."""
        hit = self._cache.get(key)
        if hit is None:
            value = load()
            self._cache[key] = _Cached(value, time.monotonic())
            return value
        if time.monotonic() - hit.at >= ttl and key not in self._refreshing:
            self._refreshing.add(key)
            gevent.spawn(self._reload, key, load)
        return hit.value

    def _reload(self, key: str, load: Callable[[], Any]) -> None:
        try:
            self._cache[key] = _Cached(load(), time.monotonic())
        except BoltError:
            self._cache.pop(key, None)  # the next caller sees the error itself
        finally:
            self._refreshing.discard(key)

    def _run(self, argv: list[str], check: bool = True) -> str:
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=QUERY_TIMEOUT_SECONDS,
                env=bolt_environment(),
                cwd=self.project,
            )
        except FileNotFoundError as exc:
            raise BoltUnavailableError(f"cannot start bolt: {exc}", details={"setting": "BOLTDECK_BOLT_BIN"}) from exc
        except subprocess.TimeoutExpired as exc:
            raise BoltError(f"bolt did not answer within {QUERY_TIMEOUT_SECONDS}s: {' '.join(argv[1:4])}") from exc
        out = decode(done.stdout)
        if check and done.returncode != 0:
            raise _error_from_output(out, decode(done.stderr), done.returncode)
        return out

    def _run_json(self, argv: list[str]) -> dict[str, Any]:
        out = self._run(argv)
        try:
            data = json.loads(out)
        except ValueError as exc:
            raise BoltError("bolt printed something that is not JSON", details={"output": out[-2000:]}) from exc
        if not isinstance(data, dict):
            raise BoltError("bolt printed unexpected JSON", details={"output": out[-2000:]})
        return data


def _error_from_output(out: str, err: str, code: int) -> BoltError:
    """Bolt's error forms: a bare error object, a `"_error"` block, or plain text."""
    for raw in reversed(out.splitlines()):
        line = classify_stdout(raw)
        if line.kind == "error":
            return BoltError(line.payload.get("msg", "bolt failed"), details={"kind": line.payload.get("kind")})
    text = (out.strip() or err.strip() or f"bolt exited with {code}").splitlines()
    return BoltError(text[0][:500], details={"exitCode": code, "output": "\n".join(text[-20:])})
