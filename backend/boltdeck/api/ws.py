"""WS /api/ws: several subscriptions per socket, filters, unsubscribe and cancel."""

from __future__ import annotations

import json
import logging
from typing import Any

import gevent
import gevent.lock
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from ..errors import AuthenticationError, BoltdeckError, RateLimitedError
from ..extensions import Services, services
from ..streaming import HEARTBEAT
from .auth import audit, credential, require_permission, requires, resolve, user_name

sock = Sock()
log = logging.getLogger(__name__)

# include filter key -> event types it governs; errors, status, result, start and complete always pass.
FILTERS = {"output": {"stdout", "stderr", "command"}, "log": {"log"}, "progress": {"progress"}}
ALWAYS = {"start", "status", "result", "error", "complete"}


@sock.route("/api/ws")
@requires("read")
def websocket(ws):
    found = services()
    try:
        release = found.stream_limits.acquire(user_name())
    except RateLimitedError as exc:  # the handshake is done by now: say why, then close (1008)
        ws.send(json.dumps({"type": "error", "code": exc.code, "message": exc.message}))
        ws.close(reason=1008, message="too many streams")
        return
    try:
        WebSocketSession(ws, found, credential()).run()
    finally:
        release()


class WebSocketSession:
    """One socket: a receive loop and a greenlet per subscription, sends serialised by a lock."""

    def __init__(self, ws, found: Services, credential: tuple[str, str]):
        self.ws = ws
        self.found = found
        self.credential = credential  # checked again before each cancel: it may be revoked by then
        self.subscriptions: dict[str, gevent.Greenlet] = {}
        self._send_lock = gevent.lock.Semaphore()

    def run(self) -> None:
        try:
            while True:
                message = self.ws.receive()
                if message is None:
                    continue
                self.handle(message)
        except ConnectionClosed:
            pass
        finally:
            gevent.killall(list(self.subscriptions.values()))

    def handle(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return self.error("invalid_json", "messages must be JSON objects")
        if not isinstance(data, dict):
            return self.error("invalid_message", "messages must be JSON objects")
        kind = data.get("type")
        execution_id = data.get("executionId")
        if kind not in ("subscribe", "unsubscribe", "cancel"):
            return self.error("unknown_type", f"unknown message type {kind!r}", execution_id)
        if not isinstance(execution_id, str) or not execution_id:
            return self.error("validation_error", "executionId is required", execution_id)
        try:
            getattr(self, kind)(execution_id, data)
        except BoltdeckError as exc:
            self.error(exc.code, exc.message, execution_id)
        except ConnectionClosed:
            raise
        except Exception:  # say so rather than drop the socket: its other subscriptions stay
            log.exception("WebSocket %s of execution %s failed", kind, execution_id)
            self.error("internal_error", f"{kind} failed on the server (see its log)", execution_id)

    def subscribe(self, execution_id: str, data: dict[str, Any]) -> None:
        after = data.get("after", 0)
        include = data.get("include") or {}
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            return self.error("validation_error", "after must be a non-negative integer", execution_id)
        if not isinstance(include, dict) or not all(k in FILTERS for k in include):
            return self.error("validation_error", f"include keys must be among {sorted(FILTERS)}", execution_id)
        wanted = set(ALWAYS)
        for key, types in FILTERS.items():
            if include.get(key, True):
                wanted |= types
        types = self.found.streams.visible_types(execution_id, wanted)
        ended = self.found.streams.log_ended_by(execution_id, after)
        self.unsubscribe(execution_id, {}, quiet=True)
        self.send({"type": "subscription_confirmed", "executionId": execution_id, "after": after})
        if ended:  # nothing comes after `complete`: say the subscription is over rather than keep it
            self.send({"type": "unsubscribed", "executionId": execution_id, "reason": "complete"})
            return
        self.subscriptions[execution_id] = gevent.spawn(self._forward, execution_id, after, types)

    def _forward(self, execution_id: str, after: int, types: frozenset[str]) -> None:
        events = self.found.streams.follow(execution_id, after, "websocket", types)
        try:
            for item in events:
                if item is not HEARTBEAT:
                    self.send_raw(item.body)
        except ConnectionClosed:
            pass
        except Exception as exc:  # e.g. the store failing: tell the client, or it waits forever
            self._forwarding_failed(execution_id, exc)
        finally:
            events.close()
            if self.subscriptions.get(execution_id) is gevent.getcurrent():
                del self.subscriptions[execution_id]

    def _forwarding_failed(self, execution_id: str, exc: Exception) -> None:
        """End a subscription whose events could not be read with an error naming the problem."""
        if isinstance(exc, BoltdeckError):
            log.warning("forwarding the events of execution %s failed: %s", execution_id, exc.message)
            code, problem = exc.code, exc.message
        else:
            log.exception("forwarding the events of execution %s failed", execution_id)
            code, problem = "internal_error", f"{type(exc).__name__} on the server (see its log)"
        message = f"the subscription to execution {execution_id} ended: {problem}"
        try:
            self.error(code, f"{message}; subscribe again with `after` to resume", execution_id)
        except ConnectionClosed:
            pass

    def unsubscribe(self, execution_id: str, data: dict[str, Any], quiet: bool = False) -> None:
        greenlet = self.subscriptions.pop(execution_id, None)
        if greenlet is not None:
            greenlet.kill()
        if not quiet:
            self.send({"type": "unsubscribed", "executionId": execution_id})

    def cancel(self, execution_id: str, data: dict[str, Any]) -> None:
        who = resolve(self.credential)
        if who is None:
            raise AuthenticationError("your session ended or your token was revoked; reconnect after logging in")
        require_permission(who, "run", audited=True, execution_id=execution_id, via="websocket")
        execution = self.found.executions.cancel(execution_id)
        audit("cancel", user=who.name, execution_id=execution_id, status=execution["status"], via="websocket")
        self.send({"type": "cancel_accepted", "executionId": execution_id, "status": execution["status"]})

    def error(self, code: str, message: str, execution_id: Any = None) -> None:
        body = {"type": "error", "code": code, "message": message}
        if isinstance(execution_id, str):
            body["executionId"] = execution_id
        self.send(body)

    def send(self, body: dict[str, Any]) -> None:
        self.send_raw(json.dumps(body))

    def send_raw(self, text: str) -> None:
        with self._send_lock:
            self.ws.send(text)
