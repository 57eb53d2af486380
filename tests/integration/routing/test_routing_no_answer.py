"""An agent whose phone rings unanswered on the real Asterisk: the caller goes back to
the head of the line within its priority (ahead of a caller of its tier that arrived
meanwhile; a higher tier would still go first: tests/unit/routing/test_no_answer.py and
test_emergency_first.py), the agent is set not-ready with reason no_answer, and the next
eligible agent takes the call."""

from __future__ import annotations

import pytest

from devtools.services.asterisk import AsteriskInstance
from kernel.config import Settings
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import queue, routing_stack, with_routing
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]

AGENTS = {"1001": {"repair": 6}, "1002": {"repair": 9}}


def settings(s: Settings) -> Settings:
    return with_routing(
        s,
        [queue("repair", [("repair >= 6", 600), ("repair", None)], wrap_up_seconds=60)],
        max_no_answer_before_pause=1,
        offer_timeout_seconds=3,  # = the dialplan global HOTLINE_OFFER_TIMEOUT set below
    )


async def test_unanswered_offer_skips_and_pauses_the_agent(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    async with routing_stack(cti_stack, asterisk, AGENTS, settings=settings) as stack:
        await stack.global_var("HOTLINE_TEST_1002_NO_ANSWER", "1")
        await stack.global_var("HOTLINE_TEST_1001_TALK_TIME", "1")
        await stack.global_var("HOTLINE_OFFER_TIMEOUT", "3")
        try:
            svc, ids, rec = stack.service, stack.agents, stack.recorder
            await svc.login(ids["1001"])
            await svc.login(ids["1002"], ready=True)
            first = await stack.caller(skill="repair", tier="C", number="13900000001")
            # 1002 (the higher level) is offered the call; its phone rings, nobody answers.
            await eventually(
                lambda: bool(rec.of("call", "call.offered", call_id=first, agent="1002")),
                10,
                "1002 rings",
            )
            second = await stack.caller(skill="repair", tier="C", number="13900000002")
            await eventually(
                lambda: svc.agent(ids["1002"])["state"] == "not_ready", 15, "1002 paused"
            )
            assert svc.agent(ids["1002"])["reason"] == "no_answer"
            # The router's state changes first; its events reach the bus (and this
            # recorder) a moment later: wait for them rather than read them at once.
            await eventually(
                lambda: (
                    bool(rec.of("call", "call.agent_no_answer", call_id=first))
                    and bool(
                        rec.of("agent", "agent.state", agent_id=ids["1002"], state="not_ready")
                    )
                ),
                10,
                "the no-answer and the pause on the bus",
            )
            (no_answer,) = rec.of("call", "call.agent_no_answer", call_id=first)
            assert (no_answer["agent"], no_answer["status"]) == ("1002", "NOANSWER")
            paused = rec.of("agent", "agent.state", agent_id=ids["1002"], state="not_ready")
            assert paused[-1]["reason"] == "no_answer"
            # Back at the head of the line, ahead of the other tier-C caller.
            line = svc.waiting_calls("repair")
            assert [(c["call_id"], c["head_of_line"]) for c in line] == [
                (first, True),
                (second, False),
            ]
            await svc.ready(ids["1001"])
            await eventually(lambda: len(stack.answered()) == 1, 30, "1001 answers")
            assert stack.answered() == [("1001", first)]
            # Wrap-up (60 s for repair) is respected: the next caller waits for it...
            await eventually(
                lambda: svc.agent(ids["1001"])["state"] == "wrap_up", 10, "1001 wraps up"
            )
            assert [c["call_id"] for c in svc.waiting_calls()] == [second]
            # ...until the agent says it is done (with a wrap-up code for the call log).
            await svc.wrap_done(ids["1001"], "fixed")
            await eventually(lambda: len(stack.answered()) == 2, 30, "1001 answers again")
            assert stack.answered() == [("1001", first), ("1001", second)]
            await eventually(
                lambda: bool(rec.of("call", "call.wrapped", linkedid=first)), 10, "call.wrapped"
            )
            (wrapped,) = rec.of("call", "call.wrapped", linkedid=first)
            assert wrapped["wrap_code"] == "fixed"
            assert 0 <= wrapped["wrap_seconds"] < 60
            row = await stack.cti.wait_ended(first)
            assert row["no_answers"] == 1
            assert row["agents"] == ["1001"]

            async def logged_wrap() -> bool:
                row = await stack.cti.call_row(first)
                return row is not None and row["wrap_code"] == "fixed"

            await eventually(logged_wrap, 10, "the wrap-up code in the call log")
        finally:
            await stack.global_var("HOTLINE_TEST_1002_NO_ANSWER", "")
            await stack.global_var("HOTLINE_TEST_1001_TALK_TIME", "")
            await stack.global_var(
                "HOTLINE_OFFER_TIMEOUT", str(cti_stack.settings.routing.offer_timeout_seconds)
            )
