"""Event bus: one port, an in-process and a Redis Streams backend."""

from hotline.bus.factory import make_bus
from hotline.bus.port import BusClosed, BusMessage, EventBus, Subscription

__all__ = ["BusClosed", "BusMessage", "EventBus", "Subscription", "make_bus"]
