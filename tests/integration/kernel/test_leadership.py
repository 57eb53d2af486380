"""Leader election (kernel/leadership.py) on a real redis-server: of two backend
processes exactly one runs the duties (here a stand-in bridge), the other takes over
when it goes, and every term has a higher fencing token than the last."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass, field

import pytest
import redis.asyncio as aioredis

from devtools.services.redis import start_redis
from kernel.leadership import AlwaysLeader, LeaderElection
from tests.support import eventually

pytestmark = pytest.mark.integration
TTL, RENEW = 1.0, 0.1


@dataclass
class Bridge:
    """Stands for CtiBridge: counts how many are running across contenders."""

    running: list[str]
    name: str
    starts: int = 0
    log: list[str] = field(default_factory=list)

    async def start(self) -> None:
        assert self.name not in self.running
        self.running.append(self.name)
        self.starts += 1
        self.log.append("start")

    async def stop(self) -> None:
        self.running.remove(self.name)
        self.log.append("stop")


def contender(url: str, key: str, bridge: Bridge) -> LeaderElection:
    return LeaderElection(
        url, key, start=bridge.start, stop=bridge.stop, ttl=TTL, renew_every=RENEW, node=bridge.name
    )


@pytest.fixture
def key() -> str:
    return f"hotline:leader:ami:test-{uuid.uuid4().hex[:8]}"


async def test_given_two_contenders_when_started_then_exactly_one_runs_the_bridge(
    redis_url: str, key: str
) -> None:
    running: list[str] = []
    a, b = Bridge(running, "a"), Bridge(running, "b")
    ea, eb = contender(redis_url, key, a), contender(redis_url, key, b)
    await ea.start()
    await eb.start()
    try:
        await eventually(lambda: len(running) == 1, 5, "one leader")
        for _ in range(20):  # sampled across ~10 renewals: it stays that way
            assert len(running) == 1
            assert [ea.is_leader, eb.is_leader].count(True) == 1
            await asyncio.sleep(RENEW / 2)
        admin = aioredis.Redis.from_url(redis_url, decode_responses=True)
        assert await admin.get(key) == running[0]
        await admin.aclose()
    finally:
        await ea.stop()
        await eb.stop()
    assert running == []


async def test_given_a_leader_when_it_shuts_down_then_the_other_takes_over_at_once(
    redis_url: str, key: str
) -> None:
    running: list[str] = []
    a, b = Bridge(running, "a"), Bridge(running, "b")
    ea = contender(redis_url, key, a)
    await ea.start()
    await eventually(lambda: running == ["a"], 5, "a leads")
    eb = contender(redis_url, key, b)
    await eb.start()
    try:
        await ea.stop()  # releases the lock
        assert "a" not in running
        await eventually(lambda: running == ["b"], TTL / 2, "b takes over before the TTL")
    finally:
        await eb.stop()


async def test_given_a_leader_that_crashes_when_the_ttl_passes_then_the_other_takes_over(
    redis_url: str, key: str
) -> None:
    running: list[str] = []
    a, b = Bridge(running, "a"), Bridge(running, "b")
    ea, eb = contender(redis_url, key, a), contender(redis_url, key, b)
    await ea.start()
    await eventually(lambda: running == ["a"], 5, "a leads")
    await eb.start()
    assert ea._task is not None
    ea._task.cancel()  # a crash: no more renewals, no release
    running.remove("a")  # its bridge died with it
    try:
        await eventually(lambda: running == ["b"], TTL + 1, "b takes over after the TTL")
        assert b.starts == 1
        assert eb.token > ea.token > 0, "the new term's fencing token is higher"
    finally:
        ea.is_leader = False
        await ea.stop()
        await eb.stop()


async def test_given_a_leader_whose_lock_is_taken_when_it_renews_then_it_stops_its_bridge(
    redis_url: str, key: str
) -> None:
    running: list[str] = []
    a = Bridge(running, "a")
    ea = contender(redis_url, key, a)
    await ea.start()
    await eventually(lambda: running == ["a"], 5, "a leads")
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await admin.set(key, "intruder", px=int(TTL * 1000))
        await eventually(lambda: running == [], 2, "a steps down")
        assert a.log == ["start", "stop"]
        first_token = ea.token
        await eventually(lambda: running == ["a"], TTL + 2, "a leads again after the TTL")
        assert ea.terms == 2
        assert ea.token > first_token
    finally:
        await admin.aclose()
        await ea.stop()


async def test_given_redis_gone_when_the_lock_may_lapse_then_the_leader_steps_down_in_time(
    key: str,
) -> None:
    server = start_redis()
    running: list[str] = []
    a = Bridge(running, "a")
    ea = contender(server.url, key, a)
    try:
        await ea.start()
        await eventually(lambda: running == ["a"], 5, "a leads")
        server.stop()
        # Stepped down before the TTL ends, when another process could take the lock.
        await eventually(lambda: running == [], TTL, "a steps down without Redis")
    finally:
        await ea.stop()
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


async def test_given_no_redis_when_run_then_the_only_process_is_the_leader() -> None:
    running: list[str] = []
    a = Bridge(running, "a")
    leader = AlwaysLeader(a.start, a.stop)
    await leader.start()
    assert running == ["a"]
    await leader.stop()
    assert running == []
