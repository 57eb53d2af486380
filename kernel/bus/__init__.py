"""Event bus: one port, an in-process and a Redis Streams backend."""

from kernel.bus.factory import is_shared, make_bus
from kernel.bus.port import BusClosed, BusMessage, EventBus, Subscription

__all__ = ["BusClosed", "BusMessage", "EventBus", "Subscription", "is_shared", "make_bus"]
