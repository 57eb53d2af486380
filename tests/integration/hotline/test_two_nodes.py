"""Issue 13, deliverable 4: one center on two Asterisk nodes, through the real Runtime.

Two sandbox Asterisks (`na`, `nb`) render their systemname and a digest-authenticated
trunk to each other; `hotline serve` (role all) runs one bridge per node and one router.
Agent 1001's phone is on node na, agent 1011's on node nb (pbx.nodes[].agents). A caller
on na while only 1011 is free is offered to 1011 through the trunk; a caller on nb
while only 1001 is free, to 1001. Each call is one record with its own node, its agent
and its talk time; the trunk's legs on the far node make no record of their own; the
readiness check names both AMI links. While node nb does not answer, na's resync does
not take nb's caller out of line; an offer to it that nb cannot carry leaves it to nb's
holding queue without stopping routing for na's callers; nb's resync puts it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cti.bridge import CtiBridge
from cti.calllog.writer import CALLS
from cti.commands import PbxError
from cti.nodes import NodeDialling
from devtools.demo.remote import Callers
from devtools.services.asterisk_nodes import NodePair
from devtools.services.net import free_port
from hotline.runtime import Runtime
from hotline.services import Services
from ivr.fastagi import IvrFastAgiServer
from kernel.config import Settings
from ops.health import readiness
from routing.service import RoutingService
from tests.harness.asterisk import start_test_node_pair
from tests.harness.cti import CtiStack, stack_settings
from tests.integration.hotline.support import add_staff
from tests.integration.ivr.test_ivr_classic_agi import ALWAYS_OPEN
from tests.support import eventually

pytestmark = pytest.mark.integration  # SQLite and PostgreSQL (db_url)
AGENTS = {"1001": {"general": 9}, "1011": {"general": 9}}
TALK_SECONDS = 3  # the test agents hang up after this


@pytest.fixture(scope="module")
def nodes() -> Iterator[NodePair]:
    pair = start_test_node_pair(f"test-{os.getpid()}")
    try:
        yield pair
    finally:
        pair.stop()


def node_settings(nodes: NodePair, db_url: str) -> Settings:
    env = nodes.env()
    return stack_settings(
        nodes.a,
        db_url,
        **{k: v for k, v in env.items() if k.startswith("HOTLINE_PBX__NODES")},
        HOTLINE_HTTP__PORT=str(free_port()),
        HOTLINE_AUTH__SECRET_KEY=secrets.token_hex(32),
        HOTLINE_BUSINESS_HOURS__WEEKLY=ALWAYS_OPEN,
        HOTLINE_BUSINESS_HOURS__HOLIDAYS="[]",
        HOTLINE_ROUTING__ANNOUNCE_WAIT="false",
        HOTLINE_ROUTING__OFFER_ACK_TIMEOUT_MS="200",  # no desktop acknowledges here
    )


@contextlib.asynccontextmanager
async def running(nodes: NodePair, db_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(node_settings(nodes, db_url))
    await runtime.start()
    try:
        yield runtime
    finally:
        with contextlib.suppress(Exception):
            await hang_up_all(runtime)
        await asyncio.wait_for(runtime.stop(), 60)


def bridges(runtime: Runtime) -> dict[str, CtiBridge]:
    assert runtime.services is not None
    return {b.node: b for b in runtime.services.features.bridges}


def caller_on(runtime: Runtime, node: str) -> CtiStack:
    """The CTI test helpers (call, call_row) on one node's bridge."""
    services = runtime.services
    assert services is not None
    return CtiStack(
        services.settings,
        services.bus,  # type: ignore[arg-type]  # the in-process bus (no redis.url)
        bridges(runtime)[node],
        runtime.component("call_log"),  # type: ignore[arg-type]
        services.engine,
        services.sessions,
    )


async def hang_up_all(runtime: Runtime) -> None:
    for bridge in bridges(runtime).values():
        for channel in await bridge.commands.channels():
            with contextlib.suppress(PbxError):
                await bridge.commands.hangup(channel.channel)


async def prepared(runtime: Runtime) -> tuple[Services, RoutingService, dict[str, int]]:
    """Both bridges resynced, the agents in the database and the router, and each test
    agent's phone on its node: a Local channel either node could ring, so each refuses
    calls on the node it is not on (as a phone registered elsewhere would) and only an
    offer through the trunk reaches it. They hang up after TALK_SECONDS."""
    services = runtime.services
    assert services is not None
    routing = services.features.routing
    assert routing is not None
    links = bridges(runtime)
    await eventually(lambda: all(b.resyncs for b in links.values()), 30, "both resynced")
    ids = await add_staff(services, AGENTS)
    await routing.reload_agents()
    homes = NodeDialling(services.settings.pbx)
    behaviour = dict.fromkeys(AGENTS, (0.0, float(TALK_SECONDS)))
    for node, bridge in links.items():
        elsewhere = {ext for ext in AGENTS if homes.home(ext) != node}
        await Callers(services.settings, bridge.commands).phones(behaviour, elsewhere)
    return services, routing, ids


async def rows(services: Services) -> list[dict[str, Any]]:
    async with services.engine.connect() as conn:
        found = await conn.execute(sa.select(CALLS).order_by(CALLS.c.id))
        return [dict(r._mapping) for r in found]


async def ended_row(services: Services, linkedid: str) -> dict[str, Any]:
    async def row() -> dict[str, Any] | None:
        return next((r for r in await rows(services) if r["linkedid"] == linkedid), None)

    async def ended() -> bool:
        found = await row()
        return found is not None and found["disposition"] != "in_progress"

    await eventually(ended, 60, f"call {linkedid} ended in the call log")
    found = await row()
    assert found is not None
    return found


async def test_callers_on_either_node_reach_agents_on_the_other_through_the_trunk(
    nodes: NodePair, db_url: str
) -> None:
    async with running(nodes, db_url) as runtime:
        services, routing, ids = await prepared(runtime)
        assert isinstance(runtime.component("ivr"), IvrFastAgiServer)
        assert sorted(bridges(runtime)) == ["na", "nb"]
        ready, report = await readiness(services)
        checks = {c["name"]: c for c in report["checks"]}
        assert ready, report
        assert checks["ami:na"]["ok"], checks
        assert checks["ami:nb"]["ok"], checks
        # The rendered configuration: each node has its systemname and a trunk.
        assert "systemname = na" in (nodes.a.etc_dir / "asterisk.conf").read_text()
        assert (
            "[hotline-node-na](internode-endpoint)" in (nodes.b.etc_dir / "pjsip.conf").read_text()
        )

        # 1. Only 1011 (node nb) is free; the caller is on node na.
        await routing.login(ids["1011"], ready=True)
        first = await caller_on(runtime, "na").call(caller="13800000001", dtmf="ww0")
        row = await ended_row(services, first)
        assert row["pbx_node"] == "na"
        assert row["agent_id"] == ids["1011"], row
        assert row["answered_at"] is not None, row
        assert row["talk_seconds"] > 0, row
        assert row["no_answers"] == 0, "the first offer went through the trunk"

        # 2. Only 1001 (node na) is free; the caller is on node nb.
        await routing.logout(ids["1011"])
        await routing.login(ids["1001"], ready=True)
        second = await caller_on(runtime, "nb").call(caller="13800000002", dtmf="ww0")
        row = await ended_row(services, second)
        assert row["pbx_node"] == "nb"
        assert row["agent_id"] == ids["1001"], row
        assert row["answered_at"] is not None, row
        assert row["talk_seconds"] > 0, row
        assert row["no_answers"] == 0, "the first offer went through the trunk"

        # One record per call: the trunk's legs on the far node are that node's bridge's
        # to ignore.
        logged = await rows(services)
        assert [(r["linkedid"], r["pbx_node"]) for r in logged] == [
            (first, "na"),
            (second, "nb"),
        ], logged


async def test_a_node_away_does_not_take_its_callers_out_of_line(
    nodes: NodePair, db_url: str
) -> None:
    async with running(nodes, db_url) as runtime:
        services, routing, ids = await prepared(runtime)
        links = bridges(runtime)

        waiting = await caller_on(runtime, "nb").call(caller="13800000003", dtmf="ww0")

        def in_line() -> bool:
            return any(c["call_id"] == waiting for c in routing.waiting_calls())

        await eventually(in_line, 60, "the caller on nb waits in line")
        # Node nb stops answering (frozen: its AMI pings go unanswered). Node na's
        # listing alone must not take nb's caller out of line.
        os.kill(nodes.b.pid, signal.SIGSTOP)
        try:
            await eventually(lambda: not links["nb"].client.ready, 30, "nb's AMI link lost")
            ready, report = await readiness(services)
            checks = {c["name"]: c for c in report["checks"]}
            assert not ready, report
            assert not checks["ami:nb"]["ok"], report
            assert checks["ami:na"]["ok"], report
            await routing.intake.rebuild()  # as after na's own reconnection
            assert in_line(), "nb's caller was taken out of line while nb was away"
            # An agent goes ready: offering nb's caller fails (nb does not answer), so
            # it is left to nb's holding queue, and routing goes on for na's callers.
            await routing.login(ids["1001"], ready=True)
            await eventually(lambda: not in_line(), 30, "nb's caller out of the line")
            local = await caller_on(runtime, "na").call(caller="13800000004", dtmf="ww0")
            row = await ended_row(services, local)
            assert row["agent_id"] == ids["1001"], "na's caller served while nb is away"
        finally:
            os.kill(nodes.b.pid, signal.SIGCONT)
        await eventually(lambda: links["nb"].client.ready, 60, "nb's AMI link back")
        # nb's resync puts its caller back in line, where 1001 (on na) takes it.
        row = await ended_row(services, waiting)
        assert row["pbx_node"] == "nb", row
        assert row["agent_id"] == ids["1001"], row
