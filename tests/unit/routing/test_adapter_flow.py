"""The routing adapter's promises, on the fake PBX and the in-process bus (no Asterisk):
the screen-pop goes out before the agent's phone is dialled; an unanswered offer puts the
caller back at the head of the line within its own priority; a callback reserves an agent
before the customer is dialled."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from kernel import topics
from tests.support import eventually
from tests.unit.routing.world import CALLER_CHANNEL, World, world

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"])


def channel(n: int) -> str:
    return CALLER_CHANNEL.replace("00000001", f"{n:08d}")


async def queue(w: World, call_id: str, tier: str, n: int, *, waited: float = 0.0) -> None:
    await w.publish(
        "call.queued",
        call_id=call_id,
        queue="hold-billing",
        channel=channel(n),
        uniqueid=call_id,
        call={
            "skill": "billing",
            "tier": tier,
            "language": "zh",
            "queued_at": time.time() - waited,
            "caller_number": f"1390000000{n}",
        },
    )


def record_order(w: World, log: list[str]) -> None:
    """What the router publishes as offers and what it asks the PBX to do, in one list."""
    publish, redirect = w.services.bus.publish, w.pbx.redirect

    async def logged_publish(topic: str, data: Any) -> str:
        if topic == topics.OFFER and data.get("type") == "offer":
            log.append(f"pop {data['call_id']}")
        return await publish(topic, data)

    async def logged_redirect(ch: str, **kw: Any) -> None:
        log.append(f"dial {ch}")
        await redirect(ch, **kw)

    w.services.bus.publish = logged_publish  # type: ignore[method-assign]
    w.pbx.redirect = logged_redirect  # type: ignore[method-assign, assignment]


async def test_given_a_ready_agent_when_a_caller_queues_then_the_pop_goes_out_before_the_dial(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        log: list[str] = []
        record_order(w, log)
        await w.router.login(w.agent_id, ready=True)
        await queue(w, "t-1", "C", 1)
        await eventually(lambda: w.redirected() == [channel(1)], 3, "the caller is connected")
        assert log == ["pop t-1", f"dial {channel(1)}"]
        agent = w.router.agent(w.agent_id)
        assert (agent["state"], agent["call_id"]) == ("reserved", "t-1")


async def test_given_an_unanswered_offer_then_the_caller_heads_its_priority_not_a_higher_one(
    db_url: str,
) -> None:
    # Without ageing: t-2's longer wait must not lift it above t-1 here.
    async with world(db_url, max_no_answer_before_pause=5, ageing__enabled=False) as w:
        await w.router.login(w.agent_id, ready=True)
        await queue(w, "t-1", "C", 1, waited=5)
        await eventually(lambda: w.redirected() == [channel(1)], 3, "t-1 offered")
        await queue(w, "t-2", "C", 2, waited=60)  # waited longer than t-1
        await queue(w, "t-3", "B", 3)  # a higher priority
        await eventually(lambda: len(w.router.waiting_calls()) == 2, 3, "two waiting")
        await w.publish("call.agent_no_answer", call_id="t-1", agent="1001", status="NOANSWER")
        # The agent is skipped for t-1 and takes the best other call: the higher priority.
        await eventually(lambda: w.redirected()[-1:] == [channel(3)], 3, "t-3 offered next")
        line = w.router.waiting_calls()
        assert [(c["call_id"], c["head_of_line"]) for c in line] == [("t-1", True), ("t-2", False)]
        assert w.router.agent(w.agent_id)["no_answers"] == 1


async def test_given_a_callback_when_an_agent_is_free_then_it_is_reserved_before_the_dial(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        await w.publish(
            "call.callback_requested",
            call_id="t-origin",
            number="13600000003",
            call={"skill": "billing", "tier": "B", "language": "zh", "queued_at": time.time()},
        )
        await eventually(lambda: len(w.router.waiting_calls()) == 1, 3, "the callback waits")
        await w.router.login(w.agent_id, ready=True)
        await eventually(lambda: len(w.originates()) == 1, 3, "the customer is dialled")
        row = await w.callback_row()
        agent = w.router.agent(w.agent_id)
        # The agent is held for this callback (its line entry cb-<id>) while the customer's
        # leg (hlcb-<id>x<attempt>x...) rings.
        assert (agent["state"], agent["call_id"]) == ("reserved", f"cb-{row['id']}")
        assert w.originates()[0]["uniqueid"].startswith(f"hlcb-{row['id']}x1x")
        assert (row["state"], row["attempts"]) == ("dialing", 1)


async def test_given_a_caller_who_joins_during_a_rebuild_then_it_stays_in_line(
    db_url: str,
) -> None:
    """A rebuild (at start, after every reconnection) reads Asterisk's holding queues and
    takes out of line the waiting calls Asterisk no longer holds. A caller who joined after
    that read is not in it, and must not be taken for gone (found while writing these
    tests: such a caller waited unrouted until the next rebuild)."""
    async with world(db_url) as w:
        reading, release = asyncio.Event(), asyncio.Event()
        read = w.pbx.queue_entries

        async def slow_read(queue: str | None = None) -> Any:
            entries = await read(queue)  # the snapshot: nobody holding yet
            reading.set()
            await release.wait()
            return entries

        w.pbx.queue_entries = slow_read  # type: ignore[method-assign]
        rebuild = asyncio.create_task(w.router.intake.rebuild())
        await asyncio.wait_for(reading.wait(), 3)
        await queue(w, "t-9", "C", 9)
        await eventually(lambda: len(w.router.waiting_calls()) == 1, 3, "t-9 in line")
        release.set()
        await asyncio.wait_for(rebuild, 5)
        assert [c["call_id"] for c in w.router.waiting_calls()] == ["t-9"]
