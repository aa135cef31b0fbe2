"""Progress you can watch: detectors read tools' output, an execution's tracker turns it into events.

`detect(line)` finds a marker (phase, percent when the tool says it, N of M, item) in one
line of apt/dpkg, dnf/yum, zypper, pip or Puppet output, or any line stating `NN%`.
`ExecutionProgress` runs them over every target's output and sends rate-limited `progress`
and `resources` (Puppet) events; `ResourceView` is one target's Puppet resources.
"""

from .detectors import DETECTORS, detect
from .marker import Marker, readable
from .resources import ResourceView
from .tracker import DEFAULT_EVENTS_PER_SECOND, ExecutionProgress

__all__ = [
    "DETECTORS", "DEFAULT_EVENTS_PER_SECOND", "ExecutionProgress", "Marker", "ResourceView", "detect", "readable",
]
