"""The event bus port: how features tell each other what happened.

Two delivery modes, the same for every backend:
- fan-out (``group=None``): every subscriber gets every event published after it
  subscribed, in publish order per topic. Each subscription has a bounded buffer;
  when a subscriber falls behind by more than that, the oldest buffered events are
  dropped and counted in ``Subscription.dropped`` (live views resync from state, they
  must never stall the publisher).
- competing consumers (``group="name"``): each event goes to one member of the group
  and stays pending until acknowledged; unacknowledged events are delivered again to
  the next consumer of the group (at-least-once). Used by writers that must not lose
  anything (the call log, ticket SLA clocks).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_BUFFER = 10_000


@dataclass(frozen=True, slots=True)
class BusMessage:
    topic: str
    id: str
    data: dict[str, Any]


class Subscription(Protocol):
    dropped: int

    def __aiter__(self) -> AsyncIterator[BusMessage]: ...

    async def get(self, timeout: float | None = None) -> BusMessage:
        """The next message; TimeoutError after `timeout` seconds."""
        ...

    async def ack(self, message: BusMessage) -> None:
        """Mark a group message handled (no-op for fan-out subscriptions)."""
        ...

    async def close(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, topic: str, data: Mapping[str, Any]) -> str:
        """Publish one event; returns its id. Ids increase per topic."""
        ...

    async def subscribe(
        self,
        *topics: str,
        group: str | None = None,
        consumer: str | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> Subscription: ...

    async def close(self) -> None: ...


class BusClosed(Exception):
    """The subscription or bus was closed while a consumer waited."""


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime on the bus: use aware UTC")
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not serialisable on the bus")


def encode(data: Mapping[str, Any]) -> str:
    """Events travel as JSON (UTF-8, Chinese kept readable); both backends encode
    so that a payload that works in-process also works over Redis."""
    return json.dumps(data, ensure_ascii=False, default=_default, separators=(",", ":"))


def decode(text: str | bytes) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("bus payload must be a JSON object")
    return value
