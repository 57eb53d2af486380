"""Issue 3 scenarios on the real Asterisk 22: each ends in exactly one call record with
the right disposition and durations. A scripted FastAGI peer plays the IVR's part
(tests/harness/stub_agi.py); the test plays the router's (AMI Redirect to hotline-connect)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from devtools.services.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.support import eventually

# The call-log writer is proven on both databases by test_cti_e2e.py; these scenarios
# are about tracking, so one backend keeps the suite fast.
pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


async def _queued_channel(stack: CtiStack, linkedid: str) -> str:
    """The caller's channel once it waits in a holding queue (what a router would see)."""
    found: dict[str, Any] = {}

    async def waiting() -> bool:
        for entry in await stack.bridge.commands.queue_entries():
            if entry.uniqueid.startswith(linkedid):
                found["channel"] = entry.channel
                return True
        return False

    await eventually(waiting, 15, f"{linkedid} in a holding queue")
    return str(found["channel"])


async def _connect(stack: CtiStack, channel: str, extension: str) -> None:
    await stack.bridge.commands.redirect(channel, context="hotline-connect", exten=extension)


async def test_caller_hangs_up_during_ivr(cti_stack: CtiStack, asterisk: AsteriskInstance) -> None:
    async with stub_ivr(
        asterisk.fastagi_port, IvrScript(steps=[("main", "1"), ("billing", "")], linger=3)
    ):
        linkedid = await cti_stack.call(hangup_after=2)
        row = await cti_stack.wait_ended(linkedid)
    assert row["disposition"] == "abandoned_ivr"
    assert row["ivr_path"][0] == "main"
    assert row["queued_at"] is None
    assert 1.5 <= (row["ended_at"] - row["started_at"]).total_seconds() <= 5


async def test_caller_abandons_in_queue(cti_stack: CtiStack, asterisk: AsteriskInstance) -> None:
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="billing", priority=30, tier="A")):
        linkedid = await cti_stack.call(hangup_after=4)
        row = await cti_stack.wait_ended(linkedid)
    assert row["disposition"] == "abandoned_queue"
    assert (row["queue"], row["priority"], row["tier"]) == ("billing", 30, "A")
    assert 2 <= row["wait_seconds"] <= 5
    assert row["ivr_path"] == ["main"]


async def test_answered_and_completed_by_an_agent(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="repair")):
        linkedid = await cti_stack.call(caller="13700000001", hangup_after=7)
        channel = await _queued_channel(cti_stack, linkedid)
        await asyncio.sleep(1)
        await _connect(cti_stack, channel, "1001")
        row = await cti_stack.wait_ended(linkedid)
    assert row["disposition"] == "answered"
    assert row["agents"] == ["1001"]
    assert row["queue"] == "repair"
    assert 0.8 <= row["wait_seconds"] <= 3
    assert row["talk_seconds"] >= 2
    assert row["answered_at"] <= row["ended_at"]


async def test_answered_then_transferred_to_another_agent(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="billing")):
        linkedid = await cti_stack.call(hangup_after=9)
        channel = await _queued_channel(cti_stack, linkedid)
        await _connect(cti_stack, channel, "1001")
        await eventually(lambda: _answered(cti_stack, linkedid), 10, "first agent")
        await asyncio.sleep(1.5)
        await _connect(cti_stack, channel, "1002")
        row = await cti_stack.wait_ended(linkedid)
    assert row["disposition"] == "answered"
    assert row["agents"] == ["1001", "1002"]
    assert row["transfers"] == 1
    assert await cti_stack.count_calls() == 1


async def test_two_calls_at_once_from_the_same_number(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")):
        first = await cti_stack.call(caller="13911112222", hangup_after=3)
        second = await cti_stack.call(caller="13911112222", hangup_after=4)
        rows = [await cti_stack.wait_ended(first), await cti_stack.wait_ended(second)]
    assert rows[0]["id"] != rows[1]["id"]
    assert {r["caller_number"] for r in rows} == {"13911112222"}
    assert all(r["disposition"] == "abandoned_queue" for r in rows)
    assert await cti_stack.count_calls() == 2


def _answered(stack: CtiStack, linkedid: str) -> bool:
    call = stack.bridge.tracker.calls.get(linkedid)
    return call is not None and bool(call.agents)
