"""A callback attempt that fails hands its reserved agent back at once: the next waiting
caller is offered to that agent right away, and the agent is never blamed (no no-answer
counted, never paused) for a customer Hotline could not reach.

The router runs on the fake PBX (cti/fake_pbx.py) and the in-process bus: the test plays
the CTI bridge's part (call.* events) and the agent desktop's (offer.delivered)."""

from __future__ import annotations

import time

import pytest

from cti.commands import PbxError
from routing.pbx import connector
from tests.support import eventually
from tests.unit.routing.world import CALLER_CHANNEL, World, world

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"])


async def callback_then_live_caller(w: World) -> None:
    """A callback keeps an early place in billing; a live caller waits behind it."""
    now = time.time()
    snapshot = {"skill": "billing", "tier": "B", "language": "zh"}
    await w.publish(
        "call.callback_requested",
        call_id="t-origin",
        number="13600000003",
        call={**snapshot, "queued_at": now - 100},
    )
    await w.publish(
        "call.queued",
        call_id="t-live",
        queue="hold-billing",
        channel=CALLER_CHANNEL,
        uniqueid="t-live",
        call={**snapshot, "queued_at": now - 10, "caller_number": "13900000009"},
    )
    await eventually(
        lambda: [c["kind"] for c in w.router.waiting_calls()] == ["callback", "live"],
        5,
        "the callback waits ahead of the live caller",
    )
    await w.router.login(w.agent_id)


async def test_given_the_originate_is_refused_then_the_agent_takes_the_live_caller_at_once(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        await callback_then_live_caller(w)
        w.pbx.fail_next = PbxError("Originate failed")
        await w.router.ready(w.agent_id)
        await eventually(lambda: w.redirected() == [CALLER_CHANNEL], 2, "live caller connected")
        assert w.originates() == []  # the refused originate was never carried out
        agent = w.router.agent(w.agent_id)
        assert (agent["state"], agent["call_id"], agent["no_answers"]) == ("reserved", "t-live", 0)
        row = await w.callback_row()
        assert (row["state"], row["attempts"], row["outcome"]) == (
            "retry_wait",
            1,
            "originate refused: Originate failed",
        )


async def test_given_the_customer_leg_fails_then_the_agent_takes_the_live_caller_at_once(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        await callback_then_live_caller(w)
        await w.router.ready(w.agent_id)
        await eventually(lambda: len(w.originates()) == 1, 2, "the customer is dialled")
        attempt = w.originates()[0]["uniqueid"]
        assert attempt.startswith("hlcb-")
        assert w.router.agent(w.agent_id)["state"] == "reserved"
        # What the bridge reports for a customer leg that fails at once (seen on Asterisk
        # 22: DialEnd CONGESTION on the customer's number, then the attempt's hangup).
        await w.publish("call.started", call_id=attempt, call={})
        await w.publish(
            "call.agent_no_answer", call_id=attempt, agent="13600000003", status="CONGESTION"
        )
        failed = time.monotonic()
        await w.publish("call.ended", call_id=attempt, call={})
        await eventually(lambda: w.redirected() == [CALLER_CHANNEL], 2, "live caller connected")
        assert time.monotonic() - failed < 1.0
        agent = w.router.agent(w.agent_id)
        assert (agent["call_id"], agent["no_answers"]) == ("t-live", 0)
        row = await w.callback_row()
        assert (row["state"], row["outcome"]) == ("retry_wait", "customer not reached")


async def test_given_asterisk_never_reports_the_attempt_then_the_agent_is_not_blamed(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attempt's events are lost (e.g. the AMI link dropped meanwhile): the watchdog
    # gives the attempt up as "customer not reached", not as the agent's no-answer.
    monkeypatch.setattr(connector, "WATCHDOG_MARGIN", 0.0)
    async with world(db_url, offer_timeout_seconds=1, callback__ring_seconds=1) as w:
        await callback_then_live_caller(w)
        await w.router.ready(w.agent_id)
        await eventually(lambda: len(w.originates()) == 1, 2, "the customer is dialled")
        await eventually(lambda: w.redirected() == [CALLER_CHANNEL], 5, "live caller connected")
        agent = w.router.agent(w.agent_id)
        assert (agent["state"], agent["call_id"], agent["no_answers"]) == ("reserved", "t-live", 0)
        row = await w.callback_row()
        assert (row["state"], row["attempts"]) == ("retry_wait", 1)
        assert [c["kind"] for c in w.router.waiting_calls()] == []  # retried later, not now
