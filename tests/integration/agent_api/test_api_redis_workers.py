"""Several API workers sharing Redis: a sign-out or a throttled username holds on every
worker, agent commands reach the one router over the bus, and a desktop connected to
any worker gets its pop from a router on another process's bus."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from agent_api.ratelimit import RedisLoginLimiter, limiter_key
from agent_api.tokens import RedisRevocations
from db.models import AgentStateName, Role
from desk.agent_state.bus import AgentCommandServer, BusAgentState
from desk.agent_state.memory import InMemoryAgentState
from desk.agent_state.port import AgentStateUnavailable, UnknownReason
from hotline.http import create_app
from hotline.services import Services
from kernel.bus.redis_streams import RedisBus
from kernel.clock import SystemClock
from tests.harness.http_app import (
    add_customer,
    add_user,
    api_server,
    api_services,
    desk,
    login,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def db_backend() -> str:
    return "postgresql"  # what a multi-worker center runs


async def test_given_two_workers_when_a_token_is_revoked_on_one_then_the_other_refuses_it(
    redis_url: str,
) -> None:
    a, b = RedisRevocations(redis_url), RedisRevocations(redis_url)
    try:
        jti = uuid.uuid4().hex
        assert not await b.is_revoked(jti)
        await a.revoke(jti, time.time() + 60)
        assert await b.is_revoked(jti)
    finally:
        await a.close()
        await b.close()


async def test_given_two_workers_when_failures_are_spread_over_both_then_the_limit_holds(
    redis_url: str,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    a = RedisLoginLimiter(redis_url, attempts=3, window=60, prefix=prefix)
    b = RedisLoginLimiter(redis_url, attempts=3, window=60, prefix=prefix)
    key = limiter_key("agent01", "10.1.1.1")
    try:
        await a.failed(key)
        await b.failed(key)
        assert await a.retry_after(key) == 0
        await a.failed(key)
        wait = await b.retry_after(key)
        assert 59 <= wait <= 60
        await b.succeeded(key)
        assert await a.retry_after(key) == 0
    finally:
        await a.close()
        await b.close()


async def test_given_a_router_process_when_an_api_worker_sends_agent_commands_then_it_answers(
    redis_url: str,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    router_bus, api_bus = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    clock = SystemClock()
    owner = InMemoryAgentState(router_bus, clock, ["break", "no_answer"])
    server = AgentCommandServer(router_bus, owner, clock)
    await server.start()
    remote = BusAgentState(api_bus, clock, timeout=5)
    try:
        assert (await remote.sign_in(7, "1007", ready=True)).state is AgentStateName.AVAILABLE
        with pytest.raises(UnknownReason):
            await remote.not_ready(7, "nap")
        assert (await owner.status(7)).state is AgentStateName.AVAILABLE
    finally:
        await remote.stop()
        await server.stop()
    # With the router gone, the worker says so instead of hanging.
    lonely = BusAgentState(api_bus, clock, timeout=0.5)
    try:
        with pytest.raises(AgentStateUnavailable):
            await lonely.ready(7)
    finally:
        await lonely.stop()
        await router_bus.close()
        await api_bus.close()


@pytest.fixture
async def two_workers(db_url: str, redis_url: str) -> AsyncIterator[tuple[Services, str, str]]:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    env = {"HOTLINE_REDIS__URL": redis_url}
    async with api_services(db_url, env=env) as first:
        await add_user(first, "agent01", Role.AGENT, "1001")
        await add_customer(first, "张伟", "13912345678", tier="A")
        secret = first.settings.auth.secret_key
        assert secret is not None
        # Two API workers: each its own bus client (and app), one database, one Redis.
        second_env = {**env, "HOTLINE_AUTH__SECRET_KEY": secret.get_secret_value()}
        async with api_services(db_url, env=second_env) as second:
            first.bus, second.bus = (
                RedisBus(redis_url, prefix=prefix),
                RedisBus(redis_url, prefix=prefix),
            )
            try:
                async with (
                    api_server(create_app(first)) as base1,
                    api_server(create_app(second)) as base2,
                ):
                    yield first, base1, base2
            finally:
                await first.bus.close()
                await second.bus.close()


async def test_given_a_desktop_on_another_worker_when_the_router_offers_then_the_pop_arrives(
    two_workers: tuple[Services, str, str],
) -> None:
    first, base1, base2 = two_workers
    async with httpx.AsyncClient(base_url=base1) as http:
        token = await login(http, "agent01")  # signed in on worker 1 ...
    delivered = await first.bus.subscribe("offer")
    async with desk(base2, token=token) as d:  # ... desktop on worker 2
        await first.bus.publish(
            "offer",
            {
                "type": "offer",
                "agent_id": 1,
                "call_id": "1900000900.1",
                "call": {"caller_number": "13912345678", "customer_id": "1", "ivr_path": []},
            },
        )
        pop = await d.next_of("pop", timeout=10)
    assert pop["pop"]["customer"]["name"] == "张伟"
    kinds = []
    while "offer.delivered" not in kinds:
        kinds.append((await delivered.get(timeout=10)).data["type"])
    assert kinds.count("offer.delivered") == 1  # the router hears it once, not per worker
