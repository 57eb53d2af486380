"""Pick the bus backend from the configured URL (None or memory:// = in-process)."""

from __future__ import annotations

from typing import TypeGuard

from kernel.bus.memory import MemoryBus
from kernel.bus.port import EventBus


def is_shared(url: str | None) -> TypeGuard[str]:
    """Does this URL name a bus that several processes share (Redis), rather than the
    in-process one? Then the cluster's duties are elected and the desk's agent commands
    travel over the bus (hotline/cluster.py, desk/feature.py)."""
    return not (url is None or url.startswith("memory://"))


def make_bus(url: str | None) -> EventBus:
    if not is_shared(url):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from kernel.bus.redis_streams import RedisBus

        return RedisBus(url)
    raise ValueError(f"redis.url: unsupported scheme in {url!r} (use redis:// or leave empty)")
