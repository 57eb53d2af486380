"""app_queue's own order agrees with the router's (routing/core/queue_prio.py), on the real
Asterisk 22 with no backend: a caller back from an unanswered offer waits at the head
of its own priority, never above a higher one, and QueueStatus gives both facts back
(what the router's rebuild reads after a restart)."""

from __future__ import annotations

import time

import pytest

from devtools.services.asterisk import AsteriskInstance
from routing.core.queue_prio import from_queue_prio, queue_prio
from tests.integration.devtools.test_sandbox import Event, RawAmi, event

pytestmark = pytest.mark.integration
QUEUE = "hold-complaint"
NAMES = {"a", "a-late", "b", "c-first", "c-second"}


async def hold(ami: RawAmi, name: str, priority: int) -> Event:
    """A caller the IVR gave `priority` enters hold-complaint (hotline-queue, as after
    the IVR); returns its QueueCallerJoin."""
    channel_id = f"{name}-{time.monotonic_ns()}"
    reply = await ami.action(
        "Originate",
        Channel="Local/s@hotline-queue",
        Context="hotline-test-caller",
        Exten="s",
        Priority="1",
        CallerID=f'"{name}" <1390000{priority:04d}>',
        ChannelId=channel_id,
        OtherChannelId=f"{channel_id}-2",
        Variable=f"HOTLINE_SKILL=complaint,HOTLINE_PRIORITY={priority}",
        Async="true",
    )
    assert reply["Response"] == "Success", reply
    return await ami.wait_for(event("QueueCallerJoin", Uniqueid=f"{channel_id}-2"))


async def line(ami: RawAmi) -> list[tuple[str, int, bool]]:
    """(caller name, priority, requeued) in app_queue's order (QueueStatus)."""
    reply = await ami.action("QueueStatus", Queue=QUEUE)
    assert reply["Response"] == "Success", reply
    done = await ami.wait_for(event("QueueStatusComplete", ActionID=reply["ActionID"]))
    entries = [
        e
        for e in ami.events[: ami.events.index(done)]
        if e.get("Event") == "QueueEntry" and e.get("ActionID") == reply["ActionID"]
    ]
    entries.sort(key=lambda e: int(e["Position"]))
    return [
        (e["CallerIDName"], *from_queue_prio(int(e["Priority"])))
        for e in entries
        if e["CallerIDName"] in NAMES  # not a caller some other test left behind
    ]


async def test_a_requeued_caller_waits_at_the_head_of_its_priority_in_app_queue(
    asterisk: AsteriskInstance,
) -> None:
    ami = await RawAmi.connect(asterisk)
    callers: list[str] = []
    joins: list[Event] = []
    try:
        await ami.action("Setvar", Variable="HOTLINE_TEST_1002_NO_ANSWER", Value="1")
        # A router of an earlier test may have left an estimated wait that callers would
        # hear before joining: not this test's subject.
        await ami.action("Setvar", Variable="HOTLINE_EWT_complaint", Value="")
        for name, priority in (("c-first", 10), ("c-second", 10), ("b", 20), ("a", 30)):
            joins.append(await hold(ami, name, priority))
            callers.append(joins[-1]["Channel"])
        assert await line(ami) == [
            ("a", 30, False),
            ("b", 20, False),
            ("c-first", 10, False),
            ("c-second", 10, False),
        ]
        # The router offers c-second to agent 1002, whose phone rings unanswered.
        second = callers[1]
        await ami.action("Setvar", Channel=second, Variable="HOTLINE_OFFER_TIMEOUT", Value="1")
        await ami.action(
            "Redirect", Channel=second, Context="hotline-connect", Exten="1002", Priority="1"
        )
        await ami.wait_for(event("UserEvent", UserEvent="HotlineOfferFailed", Channel=second))
        back = await ami.wait_for(
            lambda e: e is not joins[1] and event("QueueCallerJoin", Channel=second)(e)
        )
        # Head of its own priority (ahead of c-first), behind the higher tiers.
        assert back["Position"] == "3"
        prio = await ami.action("Getvar", Channel=second, Variable="QUEUE_PRIO")
        assert prio["Value"] == str(queue_prio(10, requeued=True)) == "21"
        assert await line(ami) == [
            ("a", 30, False),
            ("b", 20, False),
            ("c-second", 10, True),
            ("c-first", 10, False),
        ]
        # A caller of a higher priority arriving now still goes ahead of it.
        callers.append((await hold(ami, "a-late", 30))["Channel"])
        assert [name for name, *_ in await line(ami)] == [
            "a",
            "a-late",
            "b",
            "c-second",
            "c-first",
        ]
    finally:
        await ami.action("Setvar", Variable="HOTLINE_TEST_1002_NO_ANSWER", Value="")
        for channel in callers:
            await ami.action("Hangup", Channel=channel)
        for channel in callers:
            await ami.wait_for(event("Hangup", Channel=channel))
        await ami.close()
