"""Sign-in throttling per (username, client address): after `attempts` failures within
`window` seconds that pair is refused (429 with Retry-After) until the oldest failure
leaves the window. A successful sign-in clears the pair. Keys are hashed so usernames
typed by strangers are not kept in the clear.

Memory backend for one process; Redis backend (a sorted set per key) when several API
workers share the load, so rotating workers does not multiply the allowance.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Protocol

from kernel.clock import Clock

MAX_TRACKED = 50_000  # memory backend: the least recently failed keys are forgotten first


def limiter_key(username: str, address: str) -> str:
    raw = f"{username.strip().lower()}\x00{address}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class LoginLimiter(Protocol):
    async def retry_after(self, key: str) -> float:
        """Seconds until this key may try again; 0 when it may now."""
        ...

    async def failed(self, key: str) -> None: ...

    async def succeeded(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryLoginLimiter:
    def __init__(self, attempts: int, window: float, clock: Clock) -> None:
        self._attempts = attempts
        self._window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        now = self._clock.timestamp()
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    async def retry_after(self, key: str) -> float:
        times = self._recent(key)
        if len(times) < self._attempts:
            return 0.0
        return max(0.0, times[-self._attempts] + self._window - self._clock.timestamp())

    async def failed(self, key: str) -> None:
        times = self._recent(key)
        times.append(self._clock.timestamp())
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    async def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    async def close(self) -> None:
        return None


class RedisLoginLimiter:
    def __init__(self, url: str, attempts: int, window: float, prefix: str = "hotline:login:"):
        import redis.asyncio as aioredis

        self._client: Any = aioredis.Redis.from_url(url, socket_connect_timeout=5)
        self._attempts = attempts
        self._window = window
        self._prefix = prefix

    async def retry_after(self, key: str) -> float:
        k, now = self._prefix + key, time.time()
        await self._client.zremrangebyscore(k, 0, now - self._window)
        recent = await self._client.zrange(k, -self._attempts, -1, withscores=True)
        if len(recent) < self._attempts:
            return 0.0
        return max(0.0, float(recent[0][1]) + self._window - now)

    async def failed(self, key: str) -> None:
        k, now = self._prefix + key, time.time()
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(k, {uuid.uuid4().hex: now})
            pipe.expire(k, int(self._window) + 1)
            await pipe.execute()

    async def succeeded(self, key: str) -> None:
        await self._client.delete(self._prefix + key)

    async def close(self) -> None:
        await self._client.aclose()
