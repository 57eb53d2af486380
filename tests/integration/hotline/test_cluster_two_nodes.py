"""Must show (issue 13) on two Asterisk nodes: the leading `pbx` process is killed
(SIGKILL) while 10 callers wait and 5 talk, across two Asterisks with agents on both.

Real OS processes: two `hotline serve --role pbx` (one leads the cluster duties: both
nodes' AMI bridges, the call log, the router, the care duties) and one `--role api`,
sharing PostgreSQL and Redis, against two sandbox Asterisks (`na`, `nb`) joined by the
rendered inter-node trunk. Ten agents sign in through the api process, five homed on
each node (an agent's phone rings only on its own node, so a caller on the other node
reaches it only through the trunk); each has its desktop open on the api process.

15 callers dial in, alternating nodes: 5 are answered, 10 wait. A repair ticket is
created, and one resolved (its follow-up call dialled) before the kill. Then:

- the standby leads within the lease (takeover time printed);
- the other five agents go ready and take five of the waiting callers; the first five
  callers hang up and their agents take the other five; five more callers (20 in all)
  are answered by agents freed by five more hang-ups;
- every call has exactly one record, on the node it came in on, answered by an agent
  whose desktop showed that call's pop (no pop lost across the takeover);
- no duty ran twice: one retention purge in the cluster, one webhook delivery per
  ticket event, one follow-up call per resolved ticket (one resolved before the kill,
  one after).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from db.engine import async_session_factory, make_async_engine
from db.models import metadata
from devtools.demo.remote import Callers
from devtools.processes import LEADING, ServeProcess, start_serve
from devtools.services.asterisk_nodes import NODE_NAMES, NodePair
from hotline.services import Services
from kernel.bus.memory import MemoryBus
from kernel.config import Settings, load_settings
from tests.harness.asterisk import start_test_node_pair
from tests.harness.cti import REPO
from tests.harness.http_app import PASSWORD, desk, login
from tests.integration.hotline.support import AsteriskSide, add_staff, asterisk_side, fresh_redis
from tests.integration.hotline.test_cluster_failover import (
    Desk,
    bridged_to,
    closed_once_each,
    cluster_env,
    delivered_once_each,
    duties_ran_once,
    kill_the_leader,
    serve_receiver,
)
from tests.integration.integrations.test_webhooks_delivery import Receiver
from tests.support import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("db_backend", ["postgresql"]),
    pytest.mark.timeout(420),
]
HOMES = {
    "na": ("1001", "1002", "1003", "1004", "1005"),
    "nb": ("1011", "1012", "1013", "1014", "1015"),
}
AGENTS = {ext: {"business": 8} for exts in HOMES.values() for ext in exts}
FIRST_READY = ("1001", "1002", "1003", "1011", "1012")
CALLS = metadata.tables["calls"]
FENCES = metadata.tables["cluster_fences"]
FOLLOW_UPS = metadata.tables["follow_ups"]


@pytest.fixture(scope="module")
def nodes() -> Iterator[NodePair]:
    pair = start_test_node_pair(f"test-{os.getpid()}-cl")
    try:
        yield pair
    finally:
        pair.stop()


class Pops:
    """Every agent's desktop on the api process, and the pops each one showed."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {ext: set() for ext in AGENTS}
        self._tasks: list[asyncio.Task[None]] = []

    async def open(
        self, stack: contextlib.AsyncExitStack, base: str, tokens: dict[str, str]
    ) -> None:
        for ext in AGENTS:
            screen = await stack.enter_async_context(desk(base, token=tokens[ext]))
            self._tasks.append(asyncio.create_task(self._read(ext, screen)))
        stack.push_async_callback(self.close)

    async def _read(self, ext: str, screen: Any) -> None:
        with contextlib.suppress(Exception):  # the socket closes at the end
            while True:
                try:
                    frame = await screen.next(timeout=1.0)
                except TimeoutError:
                    continue
                if frame.get("type") == "pop" and frame.get("call_id"):
                    self.seen[ext].add(str(frame["call_id"]))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def sides(nodes: NodePair, settings: Settings) -> AsyncIterator[dict[str, AsteriskSide]]:
    async with asterisk_side(nodes.a, settings) as a, asterisk_side(nodes.b, settings) as b:
        yield {"na": a, "nb": b}


async def homes_only(ast: dict[str, AsteriskSide], settings: Settings) -> None:
    """The test agents are Local channels either node could ring: each refuses calls on
    the node it is not on, as a phone registered elsewhere would. They talk until hung
    up (an hour)."""
    behaviour = dict.fromkeys(AGENTS, (0.0, 3600.0))
    for node, side in ast.items():
        elsewhere = {ext for ext in AGENTS if ext not in HOMES[node]}
        await Callers(settings, side.pbx).phones(behaviour, elsewhere)


async def test_given_two_nodes_and_the_leader_killed_then_every_caller_is_served_once(
    nodes: NodePair, db_url: str, redis_url: str, tmp_path: Path
) -> None:
    hooks = Receiver(fail_first=0)
    async with contextlib.AsyncExitStack() as stack:
        receiver = await stack.enter_async_context(serve_receiver(hooks))
        env = {
            **cluster_env(nodes.a, db_url, await fresh_redis(redis_url, db=14), hooks=receiver),
            **nodes.env(agents_a="1001-1009", agents_b="1010-1019"),
            "HOTLINE_TICKETS__FOLLOW_UP__DELAY_MINUTES": "0",
            "HOTLINE_TICKETS__FOLLOW_UP__BUSINESS_HOURS_ONLY": "false",
            "HOTLINE_ROUTING__ANNOUNCE_WAIT": "false",
        }
        settings: Settings = load_settings(REPO / "config.yaml", env=env)
        engine = make_async_engine(db_url)
        stack.push_async_callback(engine.dispose)
        setup = Services(settings, MemoryBus(), engine, async_session_factory(engine))
        stack.push_async_callback(setup.bus.close)
        staff = await add_staff(setup, AGENTS)
        ast = await stack.enter_async_context(sides(nodes, settings))
        await homes_only(ast, settings)
        procs: list[ServeProcess] = []

        async def stop_all() -> None:
            for p in procs:
                await p.stop()
            for p in procs:
                print(f"--- {p.name} (pid {p.pid})\n{p.tail(30)}")
            if any(p.alive() for p in procs):
                pytest.fail("a serve process did not stop")

        stack.push_async_callback(stop_all)
        logs = tmp_path / "logs"
        first = start_serve("pbx-1", "pbx", env, logs)
        procs.append(first)
        await first.wait_for(LEADING, 60)
        second = start_serve("pbx-2", "pbx", env, logs)
        procs.append(second)
        await second.wait_for("IVR FastAGI on", 60)
        api = start_serve("api-1", "api", env, logs)
        procs.append(api)
        await api.wait_for("serving on", 60)

        base = f"http://127.0.0.1:{env['HOTLINE_HTTP__PORT']}"
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=10))
        board = Desk(http)
        tokens = {ext: await login(http, f"agent{ext}", PASSWORD) for ext in AGENTS}
        board.tokens = {f"agent{ext}": t for ext, t in tokens.items()}
        pops = Pops()
        await pops.open(stack, base, tokens)
        for ext in AGENTS:
            await board.sign_in(ext, ready=ext in FIRST_READY)

        calls: dict[str, str] = {}  # linkedid -> node it came in on

        async def place(n: int) -> None:
            node = NODE_NAMES[n % 2]
            calls[await ast[node].call(f"1370000{n:04d}", "ww5")] = node

        answered: set[str] = set()  # every caller seen talking to an agent

        async def talking() -> set[str]:
            now = {lid for lid, node in calls.items() if await bridged_to(ast[node], lid)}
            answered.update(now)
            return now

        async def waiting() -> set[str]:
            found: set[str] = set()
            for side in ast.values():
                found |= {lid for q in (await side.holding()).values() for lid, _ in q}
            return found

        for n in range(15):
            await place(n)

        async def five_talk_ten_wait() -> bool:
            return len(await talking()) == 5 and len(await waiting() & set(calls)) == 10

        await eventually(five_talk_ten_wait, 120, "5 callers talking and 10 waiting")
        talked_first = await talking()
        some = next(iter(talked_first))
        before = await ticket(http, board, some, "燃气表漏气 / meter leaking", "13900000001")
        resolved_before = await resolve(http, board, before)

        async def dialled(number: str) -> bool:
            return await follow_up_attempts(setup, number) >= 1

        # Placed: Asterisk has the call (its record linked), not only claimed. A leader
        # killed between the claim and its Originate leaves the task to be retried at its
        # deadline (followups/dialer.py), minutes later: not what this test is about.
        await eventually(lambda: placed(setup, resolved_before), 60, "the follow-up call placed")

        await kill_the_leader(first, second, "two nodes, 5 talking and 10 waiting: ")

        after = await ticket(http, board, some, "表箱损坏 / meter box broken", "13900000002")
        resolved_after = await resolve(http, board, after)
        for ext in AGENTS:
            if ext not in FIRST_READY:
                await board.ready(ext)

        async def ten_talking() -> bool:
            return len(await talking()) == 10

        await eventually(ten_talking, 120, "five of the waiting callers answered")
        for lid in talked_first:  # their agents free up for the other five
            await ast[calls[lid]].hang_up(lid)

        async def fifteen_answered() -> bool:
            await talking()
            return len(answered) == 15 and not await waiting() & set(calls)

        await eventually(fifteen_answered, 120, "all 10 callers who waited answered")
        for lid in list(await talking())[:5]:
            await ast[calls[lid]].hang_up(lid)
        for n in range(15, 20):
            await place(n)

        async def twenty_answered() -> bool:
            await talking()
            return len(answered) == 20

        await eventually(twenty_answered, 120, "five more callers answered")
        await eventually(lambda: dialled(resolved_after), 60, "the second follow-up dialled")
        for lid, node in calls.items():
            await ast[node].hang_up(lid)

        assert len(calls) == 20
        rows = await closed_once_each(setup, list(calls), 90)
        assert {lid: rows[lid]["pbx_node"] for lid in calls} == calls, "each call's own node"
        by_agent = {user_id: ext for ext, user_id in staff.items()}
        missed = {
            lid: by_agent.get(rows[lid]["agent_id"])
            for lid in calls
            if lid not in pops.seen.get(by_agent.get(rows[lid]["agent_id"], ""), set())
        }
        assert not missed, f"answered without the pop on the agent's desktop: {missed}"
        crossed = sum(
            1 for lid, node in calls.items() if by_agent[rows[lid]["agent_id"]] not in HOMES[node]
        )
        print(f"calls answered by an agent on the other node (through the trunk): {crossed}")
        assert crossed > 0

        await duties_ran_once(setup, first, second)
        await delivered_once_each(hooks, [before, after], setup)
        for number in (resolved_before, resolved_after):
            assert await follow_up_attempts(setup, number) == 1, f"{number}: one follow-up call"

        # The second follow-up was dialled just before: its record is written by the call
        # log when its events arrive, which a loaded machine may take a moment to do.
        async def both_logged() -> bool:
            return await follow_up_calls(setup) >= 2

        await eventually(both_logged, 30, "both follow-up calls logged")
        assert await follow_up_calls(setup) == 2, "one follow-up call per resolved ticket"


async def ticket(
    http: httpx.AsyncClient, board: Desk, linkedid: str, subject: str, phone: str
) -> str:
    """A repair ticket from the call (the webhook's category), to be called back on
    `phone` once resolved; its number."""
    r = await http.post(
        "/api/tickets",
        json={
            "category": "repair",
            "subject": subject,
            "linkedid": linkedid,
            "contact_number": phone,
        },
        headers=await board.headers("agent1001"),
    )
    assert r.status_code in (200, 201), r.text
    number: str = r.json()["ticket"]["number"]
    return number


async def resolve(http: httpx.AsyncClient, board: Desk, number: str) -> str:
    """Resolve the ticket `number` as agent 1001 (its follow-up call becomes due)."""
    headers = await board.headers("agent1001")
    found = await http.get("/api/tickets", params={"number": number}, headers=headers)
    assert found.status_code == 200, found.text
    ticket_id = found.json()[0]["id"]
    r = await http.post(
        f"/api/tickets/{ticket_id}/transition",
        json={"to": "resolve", "resolution": "已修复 / fixed"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return number


async def follow_up_values(services: Services, number: str, column: Any) -> list[Any]:
    """`column` of the follow-ups of ticket `number`."""
    tickets = metadata.tables["tickets"]
    async with services.engine.connect() as conn:
        found = await conn.execute(
            sa.select(column)
            .join(tickets, tickets.c.id == FOLLOW_UPS.c.ticket_id)
            .where(tickets.c.number == number)
        )
        return [value for (value,) in found.all()]


async def follow_up_attempts(services: Services, number: str) -> int:
    return sum(int(a or 0) for a in await follow_up_values(services, number, FOLLOW_UPS.c.attempts))


async def placed(services: Services, number: str) -> bool:
    """The follow-up of ticket `number` was dialled and its call record linked."""
    calls = await follow_up_values(services, number, FOLLOW_UPS.c.call_id)
    return any(call_id is not None for call_id in calls)


async def follow_up_calls(services: Services) -> int:
    async with services.engine.connect() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).select_from(CALLS).where(CALLS.c.linkedid.like("hlfu-%"))
        )
        return int(found.scalar_one())
