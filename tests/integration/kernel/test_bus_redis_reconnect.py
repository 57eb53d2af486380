"""Redis-only: a subscriber whose connection is killed resumes without losing events."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from kernel.bus.redis_streams import RedisBus

pytestmark = pytest.mark.integration


async def test_given_connections_killed_when_events_published_then_subscriber_gets_all(
    redis_url: str,
) -> None:
    bus = RedisBus(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    admin = aioredis.Redis.from_url(redis_url)
    try:
        sub = await bus.subscribe("call")
        group = await bus.subscribe("call", group="calllog")
        for i in range(10):
            await bus.publish("call", {"n": i})
        await admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")  # type: ignore[no-untyped-call]
        for i in range(10, 20):
            await bus.publish("call", {"n": i})
        fan = [(await sub.get(timeout=10)).data["n"] for _ in range(20)]
        grp = []
        for _ in range(20):
            msg = await group.get(timeout=10)
            grp.append(msg.data["n"])
            await group.ack(msg)
        assert fan == list(range(20))
        assert sorted(grp) == list(range(20))
    finally:
        await admin.aclose()
        await bus.close()
