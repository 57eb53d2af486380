"""The follow-up call on a real Asterisk 22: resolving a complaint makes Hotline call the
customer (Originate Local/<number>@hotline-callback -> hotline-followup -> FastAGI route
`followup`), play the result and run the keypad survey. The customer, a Local channel in
hotline-test-customer, presses 2 (rating 2) then 1 (not resolved): the ticket reopens and
the survey is stored against the call, the ticket and the agent who resolved it.

Keys reach the survey the way a phone's would: AMI PlayDTMF on the customer's own
channel, through the bridge hotline-callback made, into the AGI channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from db.models import FollowUp, FollowUpState, Survey, SurveyMethod, TicketState
from devtools.services.asterisk import AsteriskInstance
from followups.dialer import FollowUpDialer
from followups.survey_agi import SurveyAgi
from hotline.services import Services
from ivr.agi_server import FastAgiServer
from kernel import topics
from kernel.bus.port import Subscription
from kernel.clock import SystemClock
from tests.harness.cti import CtiStack, stack_settings
from tests.integration.tickets.support import add_customer, add_user, tid
from tests.support import eventually
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService

pytestmark = pytest.mark.integration
CUSTOMER = "13800138000"


@pytest.fixture
async def services(
    cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str
) -> AsyncIterator[Services]:
    settings = stack_settings(
        asterisk,
        db_url,
        HOTLINE_TICKETS__FOLLOW_UP__DELAY_MINUTES="0",
        HOTLINE_TICKETS__FOLLOW_UP__BUSINESS_HOURS_ONLY="false",
    )
    services = Services(
        settings=settings,
        bus=cti_stack.bus,
        engine=cti_stack.engine,
        sessions=cti_stack.sessions,
        pbx=cti_stack.bridge.commands,
        clock=SystemClock(),
    )
    agi = FastAgiServer(
        {"followup": SurveyAgi(services).handle_followup},
        asterisk.fastagi_host,
        asterisk.fastagi_port,
    )
    dialer = FollowUpDialer(services)
    await agi.start()
    await dialer.start()
    try:
        yield services
    finally:
        await dialer.stop()
        await agi.stop()


async def asked(sub: Subscription, question: str) -> None:
    while True:
        msg = await sub.get(timeout=60)
        if msg.data.get("type") == "survey.asking" and msg.data.get("question") == question:
            return


async def press(cti_stack: CtiStack, digit: str) -> None:
    """The customer presses a key on their phone (their channel sends the DTMF)."""
    channels = await cti_stack.bridge.commands.channels()
    mine = [
        c.channel
        for c in channels
        if c.channel.startswith(f"Local/{CUSTOMER}@hotline-test-customer")
        and c.channel.endswith(";2")
    ]
    assert len(mine) == 1, [c.channel for c in channels]
    await cti_stack.bridge.client.send(
        "PlayDTMF", {"Channel": mine[0], "Digit": digit, "Duration": 250}
    )


async def test_given_a_resolved_complaint_when_the_customer_presses_2_then_1_then_the_ticket_reopens_and_the_survey_is_stored(
    services: Services, cti_stack: CtiStack
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01", extension="1001")
    customer = await add_customer(services, "3301008888", "孙丽", [CUSTOMER])
    t = (
        await svc.create(
            TicketDraft(category="complaint", subject="抄表数据错误", customer_id=customer), agent
        )
    ).ticket
    survey_events = await services.bus.subscribe(topics.SURVEY)

    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已重新抄表并退还多收费用")

    await asked(survey_events, "rating")
    await press(cti_stack, "2")
    await asked(survey_events, "resolved")
    await press(cti_stack, "1")

    async def reopened() -> bool:
        return (await svc.get(tid(t))).reopen_count == 1

    await eventually(reopened, timeout=30, what="the ticket to reopen after the survey")
    t = await svc.get(tid(t))
    assert t.state == TicketState.ASSIGNED  # back with the agent who resolved it
    assert t.resolved_at is None
    async with services.sessions() as s:
        survey = (await s.exec(select(Survey))).one()
        task = (await s.exec(select(FollowUp))).one()
    assert (survey.rating, survey.resolved, survey.method) == (2, False, SurveyMethod.PHONE)
    assert (survey.ticket_id, survey.agent_id, survey.customer_id) == (t.id, agent.id, customer)
    assert survey.follow_up_id == task.id
    assert survey.comments == "keys: 2 1"
    assert (task.state, task.attempts, task.outcome) == (FollowUpState.DONE, 1, "surveyed")
    calls = await svc.calls(tid(t))
    [(call, relation)] = calls
    assert relation == "follow_up"
    assert call.linkedid.startswith("hlfu-")
    assert survey.call_id == call.id == task.call_id
    trail = [e.action for e in await svc.history(tid(t))]
    assert trail[-2:] == ["surveyed", "reopened"]
    ended = await cti_stack.wait_ended(call.linkedid)
    assert ended["direction"] == "out"
