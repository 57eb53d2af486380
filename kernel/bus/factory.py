"""Pick the bus backend from the configured URL (None or memory:// = in-process)."""

from __future__ import annotations

from kernel.bus.memory import MemoryBus
from kernel.bus.port import EventBus


def make_bus(url: str | None) -> EventBus:
    if url is None or url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from kernel.bus.redis_streams import RedisBus

        return RedisBus(url)
    raise ValueError(f"redis.url: unsupported scheme in {url!r} (use redis:// or leave empty)")
