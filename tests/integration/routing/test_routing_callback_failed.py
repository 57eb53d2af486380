"""A callback whose outbound call fails on the real Asterisk gives its reserved agent back
at once: the agent is offered the live caller waiting behind the callback right away,
and is not blamed for the customer Hotline could not reach.

The failing customer is a test number whose phone hangs up at once with a cause
(extensions_test.conf FAIL / HOTLINE_TEST_<number>_FAIL): 34 = congestion (the leg fails
after the originate was accepted); a one-digit number matches no extension of
[hotline-callback], so the originated Local channel itself fails."""

from __future__ import annotations

import time

import pytest

from devtools.services.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import routing_stack
from tests.integration.routing.test_routing_callback import (
    AGENTS,
    callback_rows,
    press_one_for_a_callback,
    settings,
)
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("db_backend", ["sqlite"])
@pytest.mark.parametrize("number", ["13600000003", "5"], ids=["congestion", "no-such-number"])
async def test_given_a_failing_callback_when_the_agent_is_ready_then_the_live_caller_is_next(
    cti_stack: CtiStack, asterisk: AsteriskInstance, number: str
) -> None:
    build = settings(max_attempts=3, retry_interval_seconds=300, ring_seconds=20)
    async with routing_stack(cti_stack, asterisk, AGENTS, settings=build) as stack:
        await stack.global_var(f"HOTLINE_TEST_{number}_FAIL", "34")
        try:
            svc, rec, agent_id = stack.service, stack.recorder, stack.agents["1001"]
            await svc.login(agent_id)
            await press_one_for_a_callback(stack, number)
            live = await stack.caller(skill="billing", tier="B", number="13900000009")
            assert [c["kind"] for c in svc.waiting_calls()] == ["callback", "live"]

            await svc.ready(agent_id)

            def attempts() -> list[str]:
                offers = rec.of("offer", "offer")
                return [o["call_id"] for o in offers if o["kind"] == "callback"]

            await eventually(lambda: bool(attempts()), 10, "the callback's turn")
            (attempt,) = attempts()
            await eventually(
                lambda: bool(rec.of("call", "call.ended", call_id=attempt)),
                10,
                "the callback attempt fails",
            )
            failed = time.monotonic()
            await eventually(
                lambda: ("1001", live) in stack.answered(), 10, "1001 takes the caller"
            )
            # Released at once: the ring time (20 s) and the offer watchdog never ran out.
            assert time.monotonic() - failed < 5
            assert svc.agent(agent_id)["no_answers"] == 0

            async def retry_later() -> bool:
                (row,) = await callback_rows(stack)
                return bool(row["state"] == "retry_wait")

            await eventually(retry_later, 10, "the callback waits for its next attempt")
            (row,) = await callback_rows(stack)
            assert (row["attempts"], row["outcome"]) == (1, "customer not reached")
        finally:
            await stack.global_var(f"HOTLINE_TEST_{number}_FAIL", "")
