"""One contract, two backends: the in-process bus and Redis Streams (a real redis-server)."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import uuid
from collections.abc import AsyncIterator

import pytest

from kernel.bus import BusClosed, EventBus, make_bus
from kernel.bus.redis_streams import RedisBus
from tests.support import eventually


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        b = make_bus(None)
    else:
        url = request.getfixturevalue("redis_url")
        # A fresh key prefix per test keeps tests independent on one server.
        b = RedisBus(url, prefix=f"t{uuid.uuid4().hex[:8]}:", claim_idle_ms=300)
    yield b
    await b.close()


async def _collect(sub: object, n: int, timeout: float = 5.0) -> list[dict[str, object]]:
    out = []
    for _ in range(n):
        msg = await sub.get(timeout=timeout)  # type: ignore[attr-defined]
        out.append(msg.data)
    return out


async def test_given_two_subscribers_when_published_then_each_gets_all_in_order(
    bus: EventBus,
) -> None:
    await bus.publish("call", {"n": -1})  # before anyone listened: not delivered
    a = await bus.subscribe("call")
    b = await bus.subscribe("call", "agent")
    for i in range(50):
        await bus.publish("call", {"n": i})
    await bus.publish("agent", {"n": 99})
    assert [m["n"] for m in await _collect(a, 50)] == list(range(50))
    got_b = [m["n"] for m in await _collect(b, 51)]
    assert got_b[:50] == list(range(50))
    assert got_b[50] == 99
    with pytest.raises(TimeoutError):
        await a.get(timeout=0.2)  # "agent" was not subscribed by a


async def test_given_chinese_and_rich_values_when_published_then_they_round_trip(
    bus: EventBus,
) -> None:
    sub = await bus.subscribe("ticket")
    at = dt.datetime(2026, 11, 22, 8, 30, tzinfo=dt.UTC)
    await bus.publish(
        "ticket",
        {
            "name": "张伟",
            "text": "燃气泄漏，请尽快派人！",
            "at": at,
            "owed": decimal.Decimal("312.40"),
        },
    )
    (data,) = await _collect(sub, 1)
    assert data == {
        "name": "张伟",
        "text": "燃气泄漏，请尽快派人！",
        "at": "2026-11-22T08:30:00+00:00",
        "owed": "312.40",
    }
    with pytest.raises(TypeError):
        await bus.publish("ticket", {"at": dt.datetime(2026, 1, 1)})  # naive: refused


async def test_given_a_group_when_two_consumers_read_then_each_event_is_handled_once(
    bus: EventBus,
) -> None:
    c1 = await bus.subscribe("call", group="calllog", consumer="w1")
    c2 = await bus.subscribe("call", group="calllog", consumer="w2")
    for i in range(40):
        await bus.publish("call", {"n": i})
    seen: list[int] = []

    async def drain(sub: object) -> None:
        while True:
            try:
                msg = await sub.get(timeout=0.5)  # type: ignore[attr-defined]
            except TimeoutError:
                return
            seen.append(msg.data["n"])
            await sub.ack(msg)  # type: ignore[attr-defined]

    await asyncio.gather(drain(c1), drain(c2))
    assert sorted(seen) == list(range(40))


async def test_given_unacked_group_events_when_consumer_dies_then_they_are_redelivered(
    bus: EventBus,
) -> None:
    c1 = await bus.subscribe("call", group="calllog", consumer="w1")
    for i in range(5):
        await bus.publish("call", {"n": i})
    first = await c1.get(timeout=5)
    await c1.ack(first)
    await c1.get(timeout=5)  # taken, never acknowledged: the worker "crashes"
    await c1.close()
    with pytest.raises(BusClosed):
        await c1.get(timeout=1)
    c2 = await bus.subscribe("call", group="calllog", consumer="w1")
    redelivered = sorted(int(str(m["n"])) for m in await _collect(c2, 4))
    assert redelivered == [1, 2, 3, 4]


async def test_given_a_dead_consumer_when_another_joins_then_it_claims_the_pending(
    bus: EventBus,
) -> None:
    c1 = await bus.subscribe("call", group="calllog", consumer="dead")
    await bus.publish("call", {"n": 1})
    await c1.get(timeout=5)
    await c1.close()
    c2 = await bus.subscribe("call", group="calllog", consumer="alive")
    (data,) = await _collect(c2, 1, timeout=10)
    assert data == {"n": 1}


async def test_given_group_exists_when_no_consumer_runs_then_events_wait_for_one(
    bus: EventBus,
) -> None:
    c1 = await bus.subscribe("ticket", group="sla")
    await c1.close()
    for i in range(3):
        await bus.publish("ticket", {"n": i})
    c2 = await bus.subscribe("ticket", group="sla")
    assert [m["n"] for m in await _collect(c2, 3)] == [0, 1, 2]


async def test_given_a_slow_fanout_subscriber_when_it_overflows_then_oldest_are_dropped(
    bus: EventBus,
) -> None:
    slow = await bus.subscribe("queue", buffer=5)
    for i in range(20):
        await bus.publish("queue", {"n": i})
    await eventually(lambda: slow.dropped >= 15, 5, "the reader to overflow")
    assert [m["n"] for m in await _collect(slow, 5)] == [15, 16, 17, 18, 19]
    assert slow.dropped == 15
