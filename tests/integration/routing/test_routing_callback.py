"""Callback (virtual hold) on the real Asterisk: a waiting caller presses 1, hangs up
keeping its place; when an agent is free the router calls the customer back (Originate)
and connects them to the agent. Unreachable customers are retried, then get a ticket."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from db.models import CallbackRequest, Ticket
from devtools.services.asterisk import AsteriskInstance
from kernel.config import Settings
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import RoutingStack, queue, routing_stack, with_routing
from tests.support import eventually

pytestmark = pytest.mark.integration

AGENTS = {"1001": {"billing": 8}}


def settings(**callback: Any) -> Any:
    def build(s: Settings) -> Settings:
        return with_routing(
            s,
            [queue("billing", [("billing >= 5", None)], wrap_up_seconds=0)],
            callback=s.routing.callback.model_copy(update=callback),
        )

    return build


async def callback_rows(stack: RoutingStack) -> list[dict[str, Any]]:
    table = CallbackRequest.__table__  # type: ignore[attr-defined]
    async with stack.cti.engine.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(sa.select(table))).all()]


async def press_one_for_a_callback(stack: RoutingStack, number: str) -> str:
    linkedid = await stack.caller(
        skill="billing", tier="B", number=number, dtmf="1", extra={"DTMF_DELAY": "3"}
    )
    await eventually(
        lambda: bool(stack.recorder.of("call", "call.callback_requested", call_id=linkedid)),
        30,
        "the caller pressed 1",
    )
    await eventually(
        lambda: [c["kind"] for c in stack.service.waiting_calls()] == ["callback"],
        30,  # generous: the machine may be busy with other test suites
        "the callback keeps the caller's place",
    )
    return linkedid


async def test_callback_request_calls_the_customer_back_and_connects_an_agent(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    async with routing_stack(cti_stack, asterisk, AGENTS, settings=settings()) as stack:
        await stack.global_var("HOTLINE_TEST_1001_TALK_TIME", "2")
        try:
            svc, rec = stack.service, stack.recorder
            await svc.login(stack.agents["1001"])
            origin = await press_one_for_a_callback(stack, "13600000001")
            (waiting,) = svc.waiting_calls()
            (row,) = await callback_rows(stack)
            assert (row["number"], row["skill"], row["state"]) == (
                "13600000001",
                "billing",
                "pending",
            )
            await eventually(
                lambda: bool(rec.of("call", "call.queued", call_id=origin)), 10, "call.queued"
            )
            queued = rec.of("call", "call.queued", call_id=origin)[0]["call"]["queued_at"]
            assert waiting["enqueued_at"] == pytest.approx(queued)  # the place in line is kept
            await stack.cti.wait_ended(origin)  # the caller hung up after the request

            await svc.ready(stack.agents["1001"])
            await eventually(lambda: bool(stack.answered()), 30, "agent 1001 answers the callback")
            ((ext, linkedid),) = stack.answered()
            assert ext == "1001"
            assert linkedid.startswith("hlcb-")
            (pop,) = rec.of("offer", "offer", call_id=linkedid)
            assert (pop["kind"], pop["call"]["caller_number"]) == ("callback", "13600000001")
            # Screen-pop, then the customer is dialled, then the agent.
            assert (
                rec.index("offer", "offer", call_id=linkedid)
                < rec.index("call", "call.offered", call_id=linkedid, agent="13600000001")
                < rec.index("call", "call.offered", call_id=linkedid, agent="1001")
            )

            async def completed() -> bool:
                (row,) = await callback_rows(stack)
                return bool(row["state"] == "completed")

            await eventually(completed, 30, "callback completed")
            (row,) = await callback_rows(stack)
            assert (row["outcome"], row["attempts"], row["agent_id"]) == (
                "answered",
                1,
                stack.agents["1001"],
            )
            call = await stack.cti.wait_ended(linkedid)
            assert call["direction"] == "out"
            assert "1001" in call["agents"]
        finally:
            await stack.global_var("HOTLINE_TEST_1001_TALK_TIME", "")


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_unreachable_customer_is_retried_then_becomes_a_ticket(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    build = settings(max_attempts=2, retry_interval_seconds=1, ring_seconds=2)
    async with routing_stack(cti_stack, asterisk, AGENTS, settings=build) as stack:
        await stack.global_var("HOTLINE_TEST_13600000002_NO_ANSWER", "1")
        try:
            svc = stack.service
            await svc.login(stack.agents["1001"])
            await press_one_for_a_callback(stack, "13600000002")
            await svc.ready(stack.agents["1001"])

            async def failed() -> bool:
                (row,) = await callback_rows(stack)
                return bool(row["state"] == "failed")

            await eventually(failed, 40, "two attempts, then failed")
            (row,) = await callback_rows(stack)
            assert row["attempts"] == 2
            assert row["ticket_id"] is not None
            async with stack.cti.engine.connect() as conn:
                table = Ticket.__table__  # type: ignore[attr-defined]
                ticket = (
                    (await conn.execute(sa.select(table).where(table.c.id == row["ticket_id"])))
                    .one()
                    ._mapping
                )
            assert (ticket["category"], ticket["source"], ticket["contact_number"]) == (
                "inquiry",
                "system",
                "13600000002",
            )
            assert ticket["number"].startswith("GD")
            # The agent was never at fault: available, no unanswered offers counted.
            agent = svc.agent(stack.agents["1001"])
            assert (agent["state"], agent["no_answers"]) == ("available", 0)
            assert not svc.waiting_calls()
        finally:
            await stack.global_var("HOTLINE_TEST_13600000002_NO_ANSWER", "")
