"""Storing survey results per call, agent and ticket, and closing the loop on the ticket.

After a follow-up survey: the answer "not resolved" reopens the ticket (the SLA
resolution clock starts again); "resolved" marks the customer informed and closes it;
no answer to that question still counts as informed (the result was played). Every
result is a surveys row (call, ticket, agent who resolved or handled it, customer,
follow-up), a "surveyed" entry in the ticket's trail, and an event on bus topic
"survey": {"type": "survey.completed", "survey_id", "method", "rating", "resolved",
"ticket_id", "call_id", "agent_id", "follow_up_id"}.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from cti.calllog.writer import ensure_call
from db.models import (
    Call,
    FollowUp,
    FollowUpState,
    Survey,
    SurveyMethod,
    Ticket,
    TicketCall,
    TicketState,
)
from followups.survey import SurveyOutcome
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from tickets.lifecycle import Action
from tickets.service import TicketService

ACTOR = Actor.system("survey")


@dataclass(frozen=True)
class SurveyInput:
    method: SurveyMethod
    rating: int | None
    resolved: bool | None
    linkedid: str | None = None
    ticket_id: int | None = None
    follow_up_id: int | None = None
    comments: str | None = None
    finished: bool = True
    agent_id: int | None = None  # who is rated; None: derived from the ticket or call


def describe(rating: int | None, resolved: bool | None) -> str:
    score = f"评分{rating}" if rating else "未评分"
    state = {True: "已解决", False: "未解决", None: "未答复是否解决"}[resolved]
    return f"回访：{score}，{state}"


class SurveyStore:
    def __init__(self, services: Services, tickets: TicketService | None = None) -> None:
        self._services = services
        self._tickets = tickets or TicketService(services)

    async def record(self, result: SurveyInput) -> Survey:
        now = self._services.clock.now()
        async with self._services.sessions() as session:
            call_id = await ensure_call(session, result.linkedid) if result.linkedid else None
            call = await session.get(Call, call_id) if call_id else None
            ticket_id = result.ticket_id
            if ticket_id is None and call_id is not None:
                linked = await session.exec(
                    select(TicketCall.ticket_id)
                    .where(TicketCall.call_id == call_id, TicketCall.relation == "created_from")
                    .order_by(TicketCall.ticket_id)  # type: ignore[arg-type]
                )
                ticket_id = linked.first()
            ticket = await session.get(Ticket, ticket_id) if ticket_id else None
            agent_id = result.agent_id
            if agent_id is None:
                if result.method is SurveyMethod.IVR and call is not None:
                    agent_id = call.agent_id  # the post-call survey rates the agent
                elif ticket is not None:
                    agent_id = ticket.assignee_id
            survey = Survey(
                call_id=call_id,
                ticket_id=ticket_id,
                agent_id=agent_id,
                customer_id=(ticket.customer_id if ticket else None)
                or (call.customer_id if call else None),
                follow_up_id=result.follow_up_id,
                method=result.method,
                rating=result.rating,
                resolved=result.resolved,
                comments=result.comments,
                at=now,
            )
            session.add(survey)
            if result.follow_up_id is not None:
                task = await session.get(FollowUp, result.follow_up_id)
                if task is not None and task.state != FollowUpState.DONE:
                    task.state = FollowUpState.DONE
                    task.completed_at = now
                    task.call_id = call_id or task.call_id
                    task.outcome = "surveyed" if result.finished else "hung_up_during_survey"
                    session.add(task)
            await session.commit()
        if ticket is not None and ticket_id is not None:
            await self._close_loop(ticket, result, survey, call_id)
        await self._services.bus.publish(
            topics.SURVEY,
            {
                "type": "survey.completed",
                "survey_id": survey.id,
                "method": result.method.value,
                "rating": result.rating,
                "resolved": result.resolved,
                "ticket_id": ticket_id,
                "call_id": call_id,
                "agent_id": agent_id,
                "follow_up_id": result.follow_up_id,
            },
        )
        return survey

    async def _close_loop(
        self, ticket: Ticket, result: SurveyInput, survey: Survey, call_id: int | None
    ) -> None:
        assert ticket.id is not None
        svc = self._tickets
        if call_id is not None and result.method is not SurveyMethod.IVR:
            await svc.link_call(ticket.id, ACTOR, call_id=call_id, relation="follow_up")
        note = describe(result.rating, result.resolved)
        data = {
            "survey_id": survey.id,
            "rating": result.rating,
            "resolved": result.resolved,
            "method": result.method.value,
        }
        await svc.annotate(ticket.id, ACTOR, "surveyed", note=note, data=data)
        if result.method is SurveyMethod.IVR:
            return  # a post-call survey rates the call, not the ticket's outcome
        state = TicketState(ticket.state)
        if state not in (TicketState.RESOLVED, TicketState.INFORMED):
            return
        if result.resolved is False:
            await svc.transition(ticket.id, Action.REOPEN, ACTOR, note=note)
            return
        if state is TicketState.RESOLVED:
            await svc.transition(ticket.id, Action.INFORM, ACTOR, note=note)
        if result.resolved is True:
            await svc.transition(ticket.id, Action.CLOSE, ACTOR, note=note)


def from_outcome(
    outcome: SurveyOutcome, method: SurveyMethod, **kw: int | str | None
) -> SurveyInput:
    return SurveyInput(
        method=method,
        rating=outcome.rating,
        resolved=outcome.resolved,
        finished=outcome.finished,
        comments=("keys: " + " ".join(outcome.inputs)) if outcome.inputs else None,
        **kw,  # type: ignore[arg-type]
    )
