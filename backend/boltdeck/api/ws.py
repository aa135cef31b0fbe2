"""WS /api/ws: several subscriptions per socket, filters, unsubscribe and cancel.

Close codes: 1008 when the credential no longer reads (checked on every control message and
every BOLTDECK_CREDENTIAL_RECHECK_SECONDS) or too many streams; 1009 for a message over
BOLTDECK_WS_MAX_MESSAGE_BYTES (simple-websocket stops reading it); 1011 when the handler fails.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import gevent
import gevent.lock
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from ..errors import AuthenticationError, BoltdeckError, ForbiddenError, RateLimitedError, ValidationError
from ..executions.model import PLAN_EVENTS
from ..extensions import Services, services
from ..schemas.json_input import json_type, parse_json
from ..streaming import HEARTBEAT
from .auth import CredentialCheck, audit, credential, require_permission, requires, user_name

sock = Sock()
log = logging.getLogger(__name__)

# include filter key -> event types it governs; errors, status, result, start and complete always pass.
FILTERS = {"output": {"stdout", "stderr", "command"}, "log": {"log"}, "progress": {"progress", "resources"}}
ALWAYS = {"start", "status", "result", "error", "complete", *PLAN_EVENTS}
CONTROL = ("subscribe", "unsubscribe", "cancel")
BAD_MESSAGE = "invalid_message"  # JSON, but not an object; or a binary frame
# How long closing waits for a send under way, so the close does not cut a frame in half.
SEND_WAIT_SECONDS = 2.0


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
    credentials = CredentialCheck(credential(), found.accounts, found.settings.credential_recheck_seconds)
    session = WebSocketSession(ws, found, credentials)
    try:
        session.run()
    except Exception:  # flask-sock would answer it with an HTTP 500 written into the open socket
        log.exception("WebSocket handler failed")
        session.end(1011, "internal server error")
    finally:
        release()


class WebSocketSession:
    """One socket: a receive loop and a greenlet per subscription, sends serialised by a lock."""

    def __init__(self, ws, found: Services, credentials: CredentialCheck):
        self.ws = ws
        self.found = found
        self.credentials = credentials
        self.principal = None  # who the credential stood for at its last check
        self.subscriptions: dict[str, gevent.Greenlet] = {}
        self._send_lock = gevent.lock.Semaphore()

    def run(self) -> None:
        """Receive until the socket closes; close it (1008) once its credential no longer reads."""
        try:
            while True:
                message = self.ws.receive(timeout=self.credentials.seconds_left())
                if message is not None:
                    self.handle(message)
                if not self.credentials.seconds_left():  # forwarding goes on between messages
                    self.principal = self.credentials.check()
        except (AuthenticationError, ForbiddenError) as exc:  # raised by the credential check alone
            body = {"type": "error", "code": exc.code, "message": exc.message}
            self.end(1008, "credential revoked" if isinstance(exc, AuthenticationError) else "forbidden", body)
        except ConnectionClosed:
            pass
        finally:
            gevent.killall(list(self.subscriptions.values()))

    def handle(self, message: str | bytes) -> None:
        try:
            data = self.parse(message)
        except ValidationError as exc:
            return self.error(exc.code, exc.message)
        kind = data.get("type")
        execution_id = data.get("executionId")
        if kind not in CONTROL:
            known = ", ".join(CONTROL)
            return self.error("unknown_type", f"unknown message type {kind!r}; known: {known}", execution_id)
        if not isinstance(execution_id, str) or not execution_id:
            return self.error("validation_error", "executionId is required", execution_id)
        self.principal = self.credentials.check()  # every control message acts as the user of today
        try:
            getattr(self, kind)(execution_id, data)
        except BoltdeckError as exc:
            self.error(exc.code, exc.message, execution_id)
        except ConnectionClosed:
            raise
        except Exception:  # say so rather than drop the socket: its other subscriptions stay
            log.exception("WebSocket %s of execution %s failed", kind, execution_id)
            self.error("internal_error", f"{kind} failed on the server (see its log)", execution_id)

    def parse(self, message: str | bytes) -> dict[str, Any]:
        """The message as a JSON object, or ValidationError naming what is wrong with it."""
        if not isinstance(message, str):
            raise ValidationError("messages must be text frames holding a JSON object, not binary", code=BAD_MESSAGE)
        data = parse_json(message, self.found.settings.max_json_depth, what="the message")
        if not isinstance(data, dict):
            raise ValidationError(f"messages must be JSON objects, got a JSON {json_type(data)}", code=BAD_MESSAGE)
        return data

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
        who = self.principal  # checked when this message arrived
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

    def end(self, code: int, reason: str, last: dict[str, Any] | None = None) -> None:
        """Stop every subscription, then close the socket with `code`, after the message `last`.

        The subscriptions go first, so nothing is forwarded once the close is decided; a send
        under way may finish first (a frame cut in half would hide the close code).
        """
        locked = self._send_lock.acquire(timeout=SEND_WAIT_SECONDS)
        try:
            gevent.killall(list(self.subscriptions.values()))
            if last is not None and locked:
                self.ws.send(json.dumps(last))
            self.ws.close(reason=code, message=reason)
        except (ConnectionClosed, OSError):
            pass  # the client left first
        finally:
            if locked:
                self._send_lock.release()

    def send_raw(self, text: str) -> None:
        with self._send_lock:
            self.ws.send(text)
