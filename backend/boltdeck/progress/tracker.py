"""One execution's live progress: detectors over each target's output, rate-limited events out."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable

from . import puppet
from .detectors import detect
from .marker import Marker, readable
from .resources import ResourceView
from .throttle import Throttle

log = logging.getLogger(__name__)
# Sends one event: (type, data, target).
Send = Callable[[str, dict[str, Any], str], None]
# Per target, at most this many `progress` (and `resources`) events a second unless configured.
DEFAULT_EVENTS_PER_SECOND = 4.0


class ExecutionProgress:
    """Read each target's output lines; send `progress` and `resources` events, a few a second per target.

    The events carry what detectors found (phase, percent, package or resource names), never
    the lines themselves: they are shown to every viewer, expert mode or not.
    """

    def __init__(self, send: Send, rate: float = DEFAULT_EVENTS_PER_SECOND):
        self._send = send
        self._markers: dict[str, Marker] = {}
        self._sent: dict[str, Marker] = {}
        self._views: dict[str, ResourceView] = {}
        self._throttle = Throttle(rate, self._emit)

    def observe(self, target: str, line: str) -> None:
        """Take one line a target printed (stdout or stderr)."""
        marker = detect(line)
        if marker is None:
            return
        previous = self._markers.get(target)
        if marker.percent is None and previous is not None and previous.stage == marker.stage:
            marker = dataclasses.replace(marker, percent=previous.percent)  # a percent holds for its stage
        self._markers[target] = marker
        if marker.tool == "puppet":
            self._observe_puppet(target, readable(line))
        self._throttle.offer(target)

    def _observe_puppet(self, target: str, text: str) -> None:
        view = self._views.setdefault(target, ResourceView())
        event = puppet.resource_event(text)
        if event is not None:
            view.add(event)
        seconds = puppet.applied_seconds(text)
        if seconds is not None:
            view.apply_seconds = seconds

    def report(self, target: str, report: dict[str, Any]) -> None:
        """Take a target's Puppet report (`bolt apply`): its resources replace what its output said."""
        self._views[target] = ResourceView.from_report(report)
        self._markers[target] = Marker("puppet", "catalog applied", "puppet")
        self._throttle.offer(target)

    def finish(self, target: str) -> dict[str, Any] | None:
        """The target ended: send what waits now; its Puppet summary, if it ran Puppet."""
        self._throttle.flush(target)
        view = self._views.get(target)
        return view.summary() if view else None

    def close(self) -> None:
        """The execution ended: send what still waits for every target."""
        self._throttle.flush_all()

    def _emit(self, target: str) -> None:
        try:
            marker = self._markers.get(target)
            if marker is not None and marker != self._sent.get(target):
                self._sent[target] = marker
                self._send("progress", marker.data(), target)
            view = self._views.get(target)
            fresh = view.drain() if view is not None else None
            if fresh is not None:
                self._send("resources", fresh, target)
        except Exception:  # a timer greenlet: the run goes on, the next emission sends the state again
            log.exception("sending the progress of %s failed", target)
