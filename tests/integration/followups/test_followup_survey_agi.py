"""The survey AGI routes with a scripted AGI peer (the real-Asterisk run is
test_followup_call.py): the post-call survey rates the call's agent, a satisfied
customer closes the ticket, a hang-up keeps what was answered, and without rendered
prompts the number is spelled with Asterisk's own sounds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlmodel import select

from cti.calllog.writer import CALLS, ensure_call
from db.models import FollowUp, FollowUpState, Survey, SurveyMethod, TicketState
from followups.survey_agi import SurveyAgi
from hotline.services import Services
from ivr.agi import AgiReply, parse_reply
from ivr.prompt_cache import PromptRenderer
from tests.integration.tickets.support import add_user, make_services, tid
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService

HANGUP = "hangup"


class ScriptedAgi:
    """Answers like Asterisk would; GET DATA takes the next key from `keys`."""

    def __init__(self, keys: list[str], variables: dict[str, str]) -> None:
        self.env = {"agi_network_script": "followup"}
        self.keys = list(keys)
        self.variables = variables
        self.commands: list[str] = []

    async def command(self, line: str) -> AgiReply:
        self.commands.append(line)
        if line.startswith(("GET VARIABLE", "GET FULL VARIABLE")):
            name = line.split(" ", 3)[-1].strip('"')
            value = self.variables.get(name)
            return parse_reply(f"200 result=1 ({value})" if value else "200 result=0")
        if line.startswith("GET DATA"):
            key = self.keys.pop(0) if self.keys else ""
            if key == HANGUP:
                return parse_reply("200 result=-1")
            return parse_reply(f"200 result={key}" if key else "200 result= (timeout)")
        return parse_reply("200 result=0 endpos=0")


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


def surveys_without_prompts(services: Services) -> SurveyAgi:
    return SurveyAgi(
        services, renderer=PromptRenderer(services.settings.ivr.sounds_dir, espeak="/nonexistent")
    )


async def resolved_ticket(
    services: Services, category: str = "complaint"
) -> tuple[TicketService, int, int | None]:
    svc = TicketService(services)
    agent = await add_user(services, "agent01", extension="1001")
    t = (
        await svc.create(
            TicketDraft(category=category, subject="水压低", contact_number="13800001234"), agent
        )
    ).ticket
    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已调整阀门")
    async with services.sessions() as s:
        task = (await s.exec(select(FollowUp))).one()
    return svc, tid(t), task.id


async def test_given_a_satisfied_customer_then_the_ticket_closes_and_prompts_fall_back_to_stock_sounds(
    services: Services,
) -> None:
    svc, ticket_id, follow_up = await resolved_ticket(services)
    agi = ScriptedAgi(
        ["5", "2"], {"HOTLINE_FOLLOWUP_ID": str(follow_up), "${CHANNEL(linkedid)}": "hlfu-abc"}
    )
    await surveys_without_prompts(services).handle_followup(agi, str(ticket_id))

    t = await svc.get(ticket_id)
    assert t.state == TicketState.CLOSED
    said = [c for c in agi.commands if c.startswith(("SAY", "STREAM"))]
    assert said[0].startswith("SAY ALPHA GD")  # no sounds: the number, spelled
    assert [c for c in agi.commands if c.startswith("GET DATA")] == ["GET DATA beep 8000 1"] * 2
    async with services.sessions() as s:
        survey = (await s.exec(select(Survey))).one()
        task = (await s.exec(select(FollowUp))).one()
    assert (survey.rating, survey.resolved, survey.method) == (5, True, SurveyMethod.PHONE)
    assert task.state == FollowUpState.DONE
    assert [e.action for e in await svc.history(ticket_id)][-3:] == [
        "surveyed",
        "informed",
        "closed",
    ]


async def test_given_a_hang_up_after_the_rating_then_the_rating_is_kept_and_the_customer_was_informed(
    services: Services,
) -> None:
    svc, ticket_id, follow_up = await resolved_ticket(services)
    agi = ScriptedAgi(
        ["3", HANGUP], {"HOTLINE_FOLLOWUP_ID": str(follow_up), "${CHANNEL(linkedid)}": "hlfu-def"}
    )
    await surveys_without_prompts(services).handle_followup(agi, str(ticket_id))
    assert (await svc.get(ticket_id)).state == TicketState.INFORMED
    async with services.sessions() as s:
        survey = (await s.exec(select(Survey))).one()
        task = (await s.exec(select(FollowUp))).one()
    assert (survey.rating, survey.resolved) == (3, None)
    assert task.outcome == "hung_up_during_survey"


async def test_given_a_caller_after_the_agent_hung_up_then_the_post_call_survey_rates_that_agent(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent07", extension="1007")
    t = (
        await svc.create(
            TicketDraft(category="inquiry", subject="咨询"), agent, linkedid="1763900000.4"
        )
    ).ticket
    async with services.sessions() as s:
        call_id = await ensure_call(s, "1763900000.4")
        await (await s.connection()).execute(
            sa.update(CALLS).where(CALLS.c.id == call_id).values(agent_id=agent.id)
        )
        await s.commit()
    agi = ScriptedAgi(["9", "4"], {"${CHANNEL(linkedid)}": "1763900000.4"})
    await surveys_without_prompts(services).handle_post_call(agi)
    async with services.sessions() as s:
        survey = (await s.exec(select(Survey))).one()
    assert (survey.method, survey.rating, survey.resolved) == (SurveyMethod.IVR, 4, None)
    assert (survey.call_id, survey.agent_id, survey.ticket_id) == (call_id, agent.id, t.id)
    assert survey.comments == "keys: 9 4"
    t = await svc.get(tid(t))
    assert t.state == TicketState.NEW  # a post-call rating does not move the ticket
    assert (await svc.history(tid(t)))[-1].action == "surveyed"
    # A caller who hangs up at once leaves no survey row.
    await surveys_without_prompts(services).handle_post_call(
        ScriptedAgi([HANGUP], {}), "1763900000.4"
    )
    async with services.sessions() as s:
        assert len((await s.exec(select(Survey))).all()) == 1
