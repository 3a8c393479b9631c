"""WebSocket consumers of live container streams (see base.py for the protocol)."""

from .events import EventsConsumer
from .exec import ExecConsumer
from .logs import LogsConsumer
from .stats import StatsConsumer

__all__ = ["EventsConsumer", "ExecConsumer", "LogsConsumer", "StatsConsumer"]
