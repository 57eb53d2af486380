"""Follow-up tasks and the dialer against the fake PBX and a controlled clock: a task is
created when a complaint is resolved (in business hours), dialled with the dialplan's
contract, retried when nobody answers, and handed to an agent after the last attempt;
agent-entered results close the loop like the keypad survey."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, select

from cti.fake_pbx import FakePbx
from db.models import FollowUp, FollowUpMethod, FollowUpState, Survey, SurveyMethod, TicketState
from followups.dialer import FollowUpDialer
from followups.survey_store import SurveyInput, SurveyStore
from hotline.services import Services
from kernel.clock import FakeClock
from tests.integration.tickets.support import add_customer, add_user, local, make_services, tid
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(local("2026-11-20 19:50"))  # Friday, ten minutes before closing


@pytest.fixture
async def services(db_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    async for s in make_services(db_url, clock=clock):
        s.pbx = FakePbx()
        yield s


async def follow_ups(services: Services) -> list[FollowUp]:
    async with services.sessions() as s:
        return list((await s.exec(select(FollowUp).order_by(col(FollowUp.id)))).all())


async def test_given_a_resolved_complaint_when_nobody_answers_then_retries_then_an_agent_takes_it(
    services: Services, clock: FakeClock
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    customer = await add_customer(services, "3301000077", "陈静", ["13700007777"])
    t = (
        await svc.create(
            TicketDraft(category="complaint", subject="客服电话难打通", customer_id=customer), agent
        )
    ).ticket
    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已增加坐席")

    [task] = await follow_ups(services)
    assert (task.number, task.method, task.state) == (
        "13700007777",
        FollowUpMethod.AUTO_CALL,
        FollowUpState.PENDING,
    )
    # 30 minutes later is after closing on Friday: first call on Saturday at opening.
    assert task.due_at == local("2026-11-21 09:00")

    dialer = FollowUpDialer(services)
    assert await dialer.run_due() == 0  # not yet
    assert await dialer.next_due() == local("2026-11-21 09:00")
    clock.set(local("2026-11-21 09:00"))
    assert await dialer.run_due() == 1
    pbx = services.pbx
    assert isinstance(pbx, FakePbx)
    (name, args) = pbx.commands[-1]
    assert name == "originate"
    assert args["endpoint"] == "Local/13700007777@hotline-callback"
    assert (args["context"], args["exten"], args["caller_id"]) == ("hotline-followup", "s", "95777")
    assert args["variables"] == {
        "HOTLINE_TICKET_ID": str(t.id),
        "HOTLINE_FOLLOWUP_ID": str(task.id),
        "HOTLINE_CALLBACK_CALLERID": "95777",
    }
    assert args["uniqueid"].startswith("hlfu-")
    [task] = await follow_ups(services)
    assert (task.state, task.attempts) == (FollowUpState.IN_PROGRESS, 1)
    assert task.call_id is not None
    calls = await svc.calls(tid(t))
    assert [(c.linkedid, rel) for c, rel in calls] == [(args["uniqueid"], "follow_up")]

    # The call ends without a survey (not answered): retried an hour later.
    await dialer.call_ended(args["uniqueid"])
    clock.advance(16)
    assert await dialer.run_due() == 0
    [task] = await follow_ups(services)
    assert (task.state, task.outcome) == (FollowUpState.PENDING, "no_answer")
    assert task.next_attempt_at == clock.now() + dt.timedelta(minutes=60)
    for _attempt in (2, 3):
        clock.set(task.next_attempt_at)
        assert await dialer.run_due() == 1
        clock.advance(30 + 600)  # ring + survey deadline passes: nobody answered
        await dialer.run_due()
        [task] = await follow_ups(services)
    assert (task.method, task.state, task.outcome, task.attempts) == (
        FollowUpMethod.AGENT,
        FollowUpState.PENDING,
        "unreachable",
        3,
    )
    assert task.next_attempt_at is None
    assert await dialer.next_due() is None
    assert (await svc.history(tid(t)))[-1].action == "follow_up_unreachable"

    # An agent calls the customer and enters the result: resolved -> informed and closed.
    assert task.id is not None
    await SurveyStore(services).record(
        SurveyInput(
            method=SurveyMethod.AGENT,
            rating=4,
            resolved=True,
            ticket_id=tid(t),
            follow_up_id=task.id,
            agent_id=agent.id,
            comments="客户满意",
        )
    )
    t = await svc.get(tid(t))
    assert t.state == TicketState.CLOSED
    [task] = await follow_ups(services)
    assert task.state == FollowUpState.DONE
    async with services.sessions() as s:
        survey = (await s.exec(select(Survey))).one()
    assert (survey.rating, survey.resolved, survey.agent_id, survey.ticket_id) == (
        4,
        True,
        agent.id,
        t.id,
    )


async def test_given_a_ticket_without_any_number_then_the_follow_up_goes_to_an_agent(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (
        await svc.create(TicketDraft(category="repair", subject="现场报修（无电话）"), agent)
    ).ticket
    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已修复")
    [task] = await follow_ups(services)
    assert (task.method, task.number) == (FollowUpMethod.AGENT, None)
    assert await FollowUpDialer(services).run_due() == 0


async def test_given_a_reopened_ticket_then_its_pending_follow_up_is_cancelled(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (
        await svc.create(
            TicketDraft(category="repair", subject="漏气", contact_number="13700001111"), agent
        )
    ).ticket
    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已修复")
    await svc.transition(tid(t), Action.REOPEN, agent, note="客户来电说又漏了")
    [task] = await follow_ups(services)
    assert (task.state, task.outcome) == (FollowUpState.CANCELLED, "ticket_reopened")
    # Resolved again: a new follow-up.
    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="更换阀门")
    assert [f.state for f in await follow_ups(services)] == [
        FollowUpState.CANCELLED,
        FollowUpState.PENDING,
    ]
