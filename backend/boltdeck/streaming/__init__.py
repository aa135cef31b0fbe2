"""StreamingExecutionManager: broker, subscriber registry, SSE and WebSocket views of the log."""

from .broker import Broker, InProcessBroker, Subscription
from .manager import HEARTBEAT, StreamingExecutionManager

__all__ = ["Broker", "InProcessBroker", "Subscription", "StreamingExecutionManager", "HEARTBEAT"]
