"""Redis Streams event bus: several backend processes share one view of the center.

One stream per topic (``<prefix><topic>``), trimmed approximately to ``maxlen``.
Fan-out subscribers read with XREAD from the last id they saw, so a dropped Redis
connection loses nothing: the reader reconnects with backoff and resumes from that id
(unlike pub/sub, where whatever is published during the gap is gone). Groups use
XREADGROUP; a consumer first re-reads its own pending entries, and entries left
pending by a dead consumer are claimed after ``claim_idle_ms``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kernel.bus.port import DEFAULT_BUFFER, BusClosed, BusMessage, decode, encode
from kernel.measures import Histogram, stream_entry_age

log = logging.getLogger(__name__)
_RETRYABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisSubscription:
    def __init__(
        self,
        bus: RedisBus,
        topics: tuple[str, ...],
        group: str | None,
        consumer: str,
        buffer: int,
    ) -> None:
        self._bus = bus
        self._topics = topics
        self._group = group
        self._consumer = consumer
        self._limit = buffer
        self._buffer: deque[BusMessage] = deque()
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._last: dict[str, str] = {}
        self._pending_cursor: dict[str, str] = {}
        self._next_claim = 0.0
        self.dropped = 0

    async def start(self) -> None:
        client = self._bus._client
        keys = [self._bus._key(t) for t in self._topics]
        if self._group is None:
            # Resolve "now" to concrete ids so nothing published after subscribe()
            # returns can be missed between here and the first XREAD.
            for key in keys:
                newest = await client.xrevrange(key, count=1)
                self._last[key] = newest[0][0] if newest else "0-0"
        else:
            for key in keys:
                with contextlib.suppress(ResponseError):  # BUSYGROUP: exists already
                    await client.xgroup_create(key, self._group, id="$", mkstream=True)
            self._pending_cursor = dict.fromkeys(keys, "0-0")
        self._task = asyncio.create_task(self._run(keys), name=f"bus-reader-{self._topics}")

    async def _run(self, keys: list[str]) -> None:
        delay = 0.1
        while not self._closed:
            try:
                if self._group is None:
                    await self._read_fanout()
                else:
                    await self._read_group(keys)
                delay = 0.1
            except _RETRYABLE as exc:
                log.warning("bus reader lost Redis (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 5.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus reader failed; retrying")
                await asyncio.sleep(1.0)

    async def _read_fanout(self) -> None:
        reply = await self._bus._client.xread(self._last, count=500, block=1000)
        for key, entries in reply or []:
            topic = self._bus._topic(key)
            for entry_id, fields in entries:
                self._last[key] = entry_id
                self._offer(self._message(topic, entry_id, fields))

    async def _read_group(self, keys: list[str]) -> None:
        client = self._bus._client
        assert self._group is not None
        if self._pending_cursor:
            # Our own entries delivered before a crash/reconnect but never acknowledged.
            reply = await client.xreadgroup(
                self._group, self._consumer, dict(self._pending_cursor), count=500
            )
            got = False
            for key, entries in reply or []:
                if entries:
                    got = True
                    self._pending_cursor[key] = entries[-1][0]
            await self._deliver_group(reply)
            if not got:
                self._pending_cursor.clear()
            return
        now = time.monotonic()
        if now >= self._next_claim:
            self._next_claim = now + self._bus.claim_idle_ms / 1000
            for key in keys:  # entries a dead consumer left unacknowledged
                claimed = await client.xautoclaim(
                    key, self._group, self._consumer, self._bus.claim_idle_ms, "0-0", count=500
                )
                await self._deliver_group([(key, claimed[1])])
        reply = await client.xreadgroup(
            self._group, self._consumer, dict.fromkeys(keys, ">"), count=500, block=1000
        )
        await self._deliver_group(reply)

    async def _deliver_group(self, reply: Any) -> None:
        for key, entries in reply or []:
            topic = self._bus._topic(key)
            for entry_id, fields in entries:
                if not fields:
                    continue  # trimmed away while pending
                await self._room.wait()  # groups never drop: backpressure instead
                self._buffer.append(self._message(topic, entry_id, fields))
                if len(self._buffer) >= self._limit:
                    self._room.clear()
                self._wakeup.set()

    def _message(self, topic: str, entry_id: str, fields: dict[str, str]) -> BusMessage:
        self._bus.consume_lag.observe_age(stream_entry_age(entry_id, time.time()))
        try:
            data = decode(fields["d"])
        except (KeyError, ValueError):
            data = {"_undecodable": repr(fields)[:500]}
        return BusMessage(topic, entry_id, data)

    def _offer(self, msg: BusMessage) -> None:
        if len(self._buffer) >= self._limit:
            self._buffer.popleft()
            self.dropped += 1
        self._buffer.append(msg)
        self._wakeup.set()

    async def get(self, timeout: float | None = None) -> BusMessage:
        async with asyncio.timeout(timeout):
            while True:
                if self._closed:
                    raise BusClosed
                if self._buffer:
                    msg = self._buffer.popleft()
                    if len(self._buffer) < self._limit:
                        self._room.set()
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
        if self._group is not None:
            key, group = self._bus._key(message.topic), self._group
            # A lost ack is only a redelivery later, but a pooled connection Redis dropped
            # would fail it now: ride the blip out like publish does.
            await self._bus._retrying(lambda: self._bus._client.xack(key, group, message.id))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        self._room.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._bus._subs.discard(self)


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "hotline:",
        maxlen: int = 1_000_000,
        claim_idle_ms: int = 30_000,
    ) -> None:
        # redis-py's stubs type stream replies as unions of everything; the shapes used
        # here are fixed by decode_responses=True, so the client is handled as Any.
        self._client: Any = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=10,
            socket_connect_timeout=5,
            socket_keepalive=True,
        )
        self._prefix = prefix
        self._maxlen = maxlen
        self.claim_idle_ms = claim_idle_ms
        self._subs: set[RedisSubscription] = set()
        self._closed = False
        # Publish (Redis's entry id) -> read by a subscriber here: the bus lag (ops/).
        self.consume_lag = Histogram()

    def _key(self, topic: str) -> str:
        return self._prefix + topic

    def _topic(self, key: str) -> str:
        return key[len(self._prefix) :]

    async def publish(self, topic: str, data: Mapping[str, Any]) -> str:
        if self._closed:
            raise BusClosed("bus is closed")
        fields = {"d": encode(data)}
        entry_id: str = await self._retrying(
            lambda: self._client.xadd(
                self._key(topic), fields, maxlen=self._maxlen, approximate=True
            )
        )
        return entry_id

    async def _retrying(self, command: Callable[[], Awaitable[Any]]) -> Any:
        """Run a Redis command, retried over a short Redis blip (a killed connection,
        a restart) rather than lose the event or its acknowledgement."""
        delay = 0.05
        for attempt in range(6):
            try:
                return await command()
            except _RETRYABLE:
                if attempt == 5:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def subscribe(
        self,
        *topics: str,
        group: str | None = None,
        consumer: str | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> RedisSubscription:
        if not topics:
            raise ValueError("subscribe needs at least one topic")
        sub = RedisSubscription(
            self, topics, group, consumer or f"c-{uuid.uuid4().hex[:12]}", buffer
        )
        await sub.start()
        self._subs.add(sub)
        return sub

    async def close(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            await sub.close()
        await self._client.aclose()
