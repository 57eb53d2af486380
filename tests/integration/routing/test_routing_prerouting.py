"""Pre-routing on the real Asterisk: while the IVR still plays its "transferring you"
prompt, the router reserves an agent and pushes the screen-pop; the caller then goes
straight from the IVR to the agent's phone, never waiting in the holding queue."""

from __future__ import annotations

import pytest

from devtools.services.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import routing_stack
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


async def test_caller_goes_from_the_ivr_straight_to_the_reserved_agent(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    agents = {"1001": {"general": 5}}
    async with routing_stack(cti_stack, asterisk, agents, prompt_seconds=1.5) as stack:
        rec = stack.recorder
        await stack.service.login(stack.agents["1001"], ready=True)
        linkedid = await stack.caller(
            skill="general", tier="B", number="13500000001", wait_queued=False
        )
        await eventually(lambda: bool(stack.answered()), 20, "the agent answers")
        assert stack.answered() == [("1001", linkedid)]
        completed = rec.index("call", "call.ivr_completed", call_id=linkedid)
        pop = rec.index("offer", "offer", call_id=linkedid)
        dialled = rec.index("call", "call.offered", call_id=linkedid, agent="1001")
        assert completed < pop < dialled
        # Straight from the IVR: no holding queue at all, and the ring came after the prompt.
        assert not rec.of("call", "call.queued", call_id=linkedid)
        (ivr,) = rec.of("call", "call.ivr_completed", call_id=linkedid)
        (offered,) = rec.of("call", "call.offered", call_id=linkedid, agent="1001")
        assert 1.3 <= offered["at"] - ivr["at"] <= 3.0
