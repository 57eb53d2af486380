"""In-process event bus: the default on one machine and the fake in unit tests.

Same contract as the Redis backend (see port.py); payloads go through the same JSON
encoding so nothing that works here can fail only in production.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any

from kernel.bus.port import DEFAULT_BUFFER, BusClosed, BusMessage, decode, encode

# A group backlog larger than this makes publishers wait (backpressure) rather than
# drop events that must not be lost.
GROUP_BACKLOG = 100_000


class _Group:
    def __init__(self) -> None:
        self.backlog: deque[BusMessage] = deque()
        self.waiters: set[asyncio.Event] = set()
        self.room = asyncio.Event()
        self.room.set()

    def push(self, msg: BusMessage) -> None:
        self.backlog.append(msg)
        if len(self.backlog) >= GROUP_BACKLOG:
            self.room.clear()
        for w in self.waiters:
            w.set()

    def pop(self) -> BusMessage | None:
        if not self.backlog:
            return None
        msg = self.backlog.popleft()
        if len(self.backlog) < GROUP_BACKLOG:
            self.room.set()
        return msg

    def give_back(self, msgs: list[BusMessage]) -> None:
        for msg in sorted(msgs, key=lambda m: int(m.id.split("-")[1]), reverse=True):
            self.backlog.appendleft(msg)
        for w in self.waiters:
            w.set()


class MemorySubscription:
    def __init__(
        self, bus: MemoryBus, topics: tuple[str, ...], group: str | None, buffer: int
    ) -> None:
        self._bus = bus
        self._topics = topics
        self._group = group
        self._buffer: deque[BusMessage] = deque()
        self._limit = buffer
        self._wakeup = asyncio.Event()
        self._closed = False
        self._pending: dict[str, tuple[_Group, BusMessage]] = {}
        self.dropped = 0
        self._groups = [bus._group(t, group) for t in topics] if group else []
        for g in self._groups:
            g.waiters.add(self._wakeup)

    # fan-out side, called by the bus
    def offer(self, msg: BusMessage) -> None:
        if len(self._buffer) >= self._limit:
            self._buffer.popleft()
            self.dropped += 1
        self._buffer.append(msg)
        self._wakeup.set()

    def _next(self) -> BusMessage | None:
        if self._group is None:
            return self._buffer.popleft() if self._buffer else None
        for g in self._groups:
            msg = g.pop()
            if msg is not None:
                self._pending[msg.id] = (g, msg)
                return msg
        return None

    async def get(self, timeout: float | None = None) -> BusMessage:
        async with asyncio.timeout(timeout):
            while True:
                if self._closed:
                    raise BusClosed
                msg = self._next()
                if msg is not None:
                    return msg
                self._wakeup.clear()
                await self._wakeup.wait()

    async def __aiter__(self) -> AsyncIterator[BusMessage]:
        while True:
            try:
                yield await self.get()
            except BusClosed:
                return

    async def ack(self, message: BusMessage) -> None:
        self._pending.pop(message.id, None)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        by_group: dict[int, tuple[_Group, list[BusMessage]]] = {}
        for g, msg in self._pending.values():
            by_group.setdefault(id(g), (g, []))[1].append(msg)
        for g, msgs in by_group.values():
            g.give_back(msgs)  # unacknowledged: the next consumer gets them
        self._pending.clear()
        for g in self._groups:
            g.waiters.discard(self._wakeup)
        self._bus._fanout_remove(self)


class MemoryBus:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._fanout: dict[str, set[MemorySubscription]] = {}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._closed = False

    def _group(self, topic: str, group: str) -> _Group:
        return self._groups.setdefault((topic, group), _Group())

    def backlogs(self) -> dict[tuple[str, str], int]:
        """(topic, group) -> messages published and not yet taken by the group: a
        consumer falling behind shows here first (ops/metrics.py hotline_bus_backlog)."""
        return {key: len(g.backlog) for key, g in self._groups.items()}

    def buffered(self) -> dict[str, list[int]]:
        """Topic -> the fan-out subscribers' buffered messages, largest first."""
        return {
            topic: sorted((len(sub._buffer) for sub in subs), reverse=True)
            for topic, subs in self._fanout.items()
        }

    def _fanout_remove(self, sub: MemorySubscription) -> None:
        for subs in self._fanout.values():
            subs.discard(sub)

    async def publish(self, topic: str, data: Mapping[str, Any]) -> str:
        if self._closed:
            raise BusClosed("bus is closed")
        payload = decode(encode(data))  # same (de)serialisation as over Redis
        msg = BusMessage(topic, f"0-{next(self._ids)}", payload)
        for (t, _), g in self._groups.items():
            if t == topic:
                await g.room.wait()
                g.push(msg)
        for sub in self._fanout.get(topic, ()):
            sub.offer(msg)
        return msg.id

    async def subscribe(
        self,
        *topics: str,
        group: str | None = None,
        consumer: str | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> MemorySubscription:
        if not topics:
            raise ValueError("subscribe needs at least one topic")
        sub = MemorySubscription(self, topics, group, buffer)
        if group is None:
            for t in topics:
                self._fanout.setdefault(t, set()).add(sub)
        return sub

    async def close(self) -> None:
        self._closed = True
        for subs in list(self._fanout.values()):
            for sub in list(subs):
                await sub.close()
