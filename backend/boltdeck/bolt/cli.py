"""BoltCli: find the bolt executable and ask it for its version, inventory, tasks, plans and facts."""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import gevent
from gevent import subprocess
from gevent.event import AsyncResult
from gevent.lock import BoundedSemaphore

from ..errors import BoltdeckError, BoltError, BoltUnavailableError, NotFoundError
from . import argv as bolt_argv
from .inventory import Inventory
from .parser import classify_stdout, decode, result_of
from .plans import PlanMetadata, plan_list
from .tasks import TaskMetadata

QUERY_TIMEOUT_SECONDS = 120
MIN_REFRESH_SECONDS = 2.0  # a flood of bad names cannot make Boltdeck spawn bolt per request
# How long a query waits for one of the BOLTDECK_MAX_BOLT_METADATA_CALLS slots before 503 `busy`:
# longer than an unreachable target's SSH connect timeout (10 s), which is what usually holds them.
CALL_WAIT_SECONDS = 15.0
BUSY = "busy"


# What Bolt needs of the server's environment, which it used to inherit whole (database password
# included, issue 11): programs and home, user and locale, temporary files and time zone, the SSH
# agent, a gem-installed Bolt's Ruby paths, and Bolt's own BOLT_* variables.
BOLT_ENV_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"}
    | {"SSH_AUTH_SOCK", "GEM_HOME", "GEM_PATH", "RUBYLIB"}
)
BOLT_ENV_PREFIXES = ("LC_", "BOLT_")


def bolt_environment(extra: dict[str, str] | None = None, passthrough: str = "") -> dict[str, str]:
    """The environment bolt runs with: the part of ours it needs, the `passthrough` names, never the rest.

    `passthrough` is BOLTDECK_BOLT_ENV_PASSTHROUGH (comma-separated names); BOLT_GEM=1 silences
    the gem warning; `extra` adds Boltdeck's own variables (the execution marker).
    """
    wanted = BOLT_ENV_NAMES | {name.strip() for name in passthrough.split(",") if name.strip()}
    env = {name: value for name, value in os.environ.items() if name in wanted or name.startswith(BOLT_ENV_PREFIXES)}
    env["BOLT_GEM"] = "1"
    env.update(extra or {})
    return env


@dataclass
class _Cached:
    value: Any
    at: float
    error: BoltdeckError | None = None  # a failure, answered again for failure_cache_seconds


@dataclass
class BoltCli:
    """Read-only conversations with bolt, cached for a while; runs go through executions.

    Each question (key) has at most one bolt process in flight, whose answer every caller asking
    meanwhile shares; failures are remembered briefly too; and at most `max_calls` of these
    processes run at once. Clients cannot turn requests into bolt processes (issue 11).
    """

    bin: str
    project: str
    cache_seconds: float = 30.0
    facts_cache_seconds: float = 300.0
    failure_cache_seconds: float = 10.0
    max_calls: int = 4
    call_wait_seconds: float = CALL_WAIT_SECONDS
    env_passthrough: str = ""  # BOLTDECK_BOLT_ENV_PASSTHROUGH, for bolt_environment
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _flights: dict[str, AsyncResult] = field(default_factory=dict)
    _calls: BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        # Bolt runs inside the project folder, where a relative --project would name a folder below
        # it: resolve against the working directory Boltdeck started in, once.
        self.project = os.path.abspath(os.path.expanduser(self.project))
        self._calls = BoundedSemaphore(self.max_calls)

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
        if fresh and hit and hit.error is None and time.monotonic() - hit.at >= MIN_REFRESH_SECONDS:
            self._cache.pop("inventory", None)
        return self._cached("inventory", self.cache_seconds, self._read_inventory)

    def task_list(self) -> list[dict[str, Any]]:
        return self._cached("tasks", self.cache_seconds, self._read_task_list)

    def task(self, name: str) -> TaskMetadata:
        return self._cached(f"task:{name}", self.cache_seconds, lambda: self._read_task(name))

    def plan_list(self) -> list[dict[str, Any]]:
        """The public plans (Bolt lists no private one), by name."""
        return self._cached("plans", self.cache_seconds, self._read_plan_list)

    def plan(self, name: str) -> PlanMetadata:
        """A plan's metadata, private ones included (`private` says so)."""
        return self._cached(f"plan:{name}", self.cache_seconds, lambda: self._read_plan(name))

    def facts(
        self, target: str, gathering: Callable[[], AbstractContextManager[Any]] = nullcontext
    ) -> dict[str, Any]:
        """A target's facts; `gathering()` wraps the bolt run when one is needed (it may refuse it).

        Stale facts are gathered again by the caller, never in the background: each gathering
        belongs to a user's request, which is how it is rate-limited and audited.
        """
        key, load = f"facts:{target}", lambda: self._read_facts(target)
        return self._cached(key, self.facts_cache_seconds, load, serve_stale=False, gathering=gathering)

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

    def _read_plan_list(self) -> list[dict[str, Any]]:
        return plan_list(self._run_json(bolt_argv.plan_show(self.require_path(), self.project)))

    def _read_plan(self, name: str) -> PlanMetadata:
        try:
            data = self._run_json(bolt_argv.plan_show(self.require_path(), self.project, name))
        except BoltError as exc:
            if "unknown-plan" in str(exc.details.get("kind", "")):
                raise NotFoundError(f"plan {name!r} does not exist in the Bolt project", details={"plan": name}) from None
            raise
        return PlanMetadata.from_show(data)

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
    def _cached(
        self,
        key: str,
        ttl: float,
        load: Callable[[], Any],
        *,
        serve_stale: bool = True,
        gathering: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> Any:
        """Answer from cache (a failure for failure_cache_seconds), else join the key's flight or load.

        A stale answer is served while one greenlet reloads it (Bolt is slow), if `serve_stale`.
        """
        hit = self._cache.get(key)
        age = time.monotonic() - hit.at if hit else 0.0
        if hit is not None and hit.error is not None:
            if age < self.failure_cache_seconds:
                raise _again(hit.error)
        elif hit is not None and age < ttl:
            return hit.value
        elif hit is not None and serve_stale:
            if key not in self._flights:
                gevent.spawn(self._reload, key, load)
            return hit.value
        flight = self._flights.get(key)
        if flight is not None:
            return _shared(flight)
        with gathering():  # may refuse (raise) before anything starts
            return self._load(key, load)

    def _load(self, key: str, load: Callable[[], Any]) -> Any:
        """Run `load` as the one flight for `key`; callers that come meanwhile get its outcome."""
        flight = self._flights[key] = AsyncResult()
        try:
            value = load()
            self._cache[key] = _Cached(value, time.monotonic())
            flight.set(value)
            return value
        except Exception as exc:
            if isinstance(exc, BoltdeckError) and exc.code != BUSY:
                self._remember_failure(key, exc)
            flight.set_exception(exc)
            raise
        finally:
            if not flight.ready():  # the loading greenlet was killed: nobody may wait forever
                flight.set_exception(BoltUnavailableError("the bolt query was interrupted; try again", code=BUSY))
            self._flights.pop(key, None)

    def _remember_failure(self, key: str, error: BoltdeckError) -> None:
        """Keep `error` for `key`, and drop expired failures: names asked once (typos, probes) do not pile up."""
        now = time.monotonic()
        for old_key, entry in list(self._cache.items()):
            if entry.error is not None and now - entry.at >= self.failure_cache_seconds:
                del self._cache[old_key]
        self._cache[key] = _Cached(None, now, error=_again(error))  # without the traceback and its frames

    def _reload(self, key: str, load: Callable[[], Any]) -> None:
        try:
            self._load(key, load)
        except Exception:
            pass  # remembered in the cache (unless busy): the next caller sees it

    @contextmanager
    def _call_slot(self, argv: list[str]) -> Iterator[None]:
        """Hold one of the `max_calls` slots for a bolt process; 503 `busy` after `call_wait_seconds`."""
        if not self._calls.acquire(timeout=self.call_wait_seconds):
            raise BoltUnavailableError(
                f"{self.max_calls} bolt queries are already running; try again shortly",
                code=BUSY,
                details={"setting": "BOLTDECK_MAX_BOLT_METADATA_CALLS", "limit": self.max_calls, "query": argv[1:3]},
                headers={"Retry-After": "5"},
            )
        try:
            yield
        finally:
            self._calls.release()

    def _run(self, argv: list[str], check: bool = True) -> str:
        try:
            with self._call_slot(argv):
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=QUERY_TIMEOUT_SECONDS,
                    env=bolt_environment(passthrough=self.env_passthrough),
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


def _again(error: BaseException) -> BaseException:
    """A fresh copy of a remembered error to raise (raising one object again piles up tracebacks)."""
    return copy.copy(error).with_traceback(None)


def _shared(flight: AsyncResult) -> Any:
    """The outcome of another caller's flight: its value, or a copy of its error."""
    flight.wait()
    if flight.successful():
        return flight.value
    raise _again(flight.exception)


def _error_from_output(out: str, err: str, code: int) -> BoltError:
    """Bolt's error forms: a bare error object, a `"_error"` block, or plain text."""
    for raw in reversed(out.splitlines()):
        line = classify_stdout(raw)
        if line.kind == "error":
            return BoltError(line.payload.get("msg", "bolt failed"), details={"kind": line.payload.get("kind")})
    text = (out.strip() or err.strip() or f"bolt exited with {code}").splitlines()
    return BoltError(text[0][:500], details={"exitCode": code, "output": "\n".join(text[-20:])})
