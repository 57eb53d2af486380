"""Ticket lifecycle and audit trail through TicketService, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.models import TicketPriority, TicketState
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from kernel.clock import FakeClock
from tests.integration.tickets.support import START, add_user, local, make_services, tid
from tickets.errors import IllegalTransition, InvalidTicket
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


def clock(services: Services) -> FakeClock:
    assert isinstance(services.clock, FakeClock)
    return services.clock


DRAFT = TicketDraft(
    category="complaint",
    subject="抄表员态度恶劣",
    description="客户反映上门抄表人员态度恶劣，要求道歉。",
    contact_number="+86 138-0013-8000",
    contact_name="王芳",
)


async def test_given_a_complaint_when_it_goes_the_whole_loop_then_each_step_is_audited(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01", extension="1001")
    clerk = await add_user(services, "clerk01", department="service_center")
    sub = await services.bus.subscribe(topics.TICKET)

    created = await svc.create(DRAFT, agent)
    t = created.ticket
    assert created.created
    assert t.state == TicketState.NEW
    assert t.number.startswith("GD20261118-")
    assert t.department == "service_center"  # the category's department
    assert t.contact_number == "13800138000"
    # Complaint, normal priority: 4 business hours to respond, 24 to resolve.
    assert t.response_due_at == local("2026-11-18 13:00")
    assert t.resolution_due_at == local("2026-11-20 09:00")  # 11 h Wed, 12 h Thu, 1 h Fri

    clock(services).advance(600)
    t = await svc.assign(tid(t), clerk.id, agent)
    assert t.state == TicketState.ASSIGNED
    assert t.assignee_id == clerk.id
    clock(services).advance(600)
    t = await svc.transition(tid(t), Action.START, clerk)
    assert t.state == TicketState.IN_PROGRESS
    assert t.responded_at == START + dt.timedelta(seconds=1200)
    assert t.sla_response_met is True
    clock(services).advance(3600)
    t = await svc.transition(tid(t), "resolved", clerk, resolution="已约谈抄表员并向客户致歉")
    assert t.state == TicketState.RESOLVED
    assert t.sla_resolution_met is True
    t = await svc.transition(tid(t), Action.INFORM, agent, note="电话告知客户处理结果")
    t = await svc.transition(tid(t), Action.CLOSE, agent)
    assert t.state == TicketState.CLOSED
    assert t.closed_at is not None
    assert t.sla_next_at is None  # no clock runs any more

    trail = await svc.history(tid(t))
    assert [(e.action, e.field, e.from_value, e.to_value) for e in trail] == [
        ("created", "state", None, "new"),
        ("assigned", "assignee_id", None, str(clerk.id)),
        ("started", "state", "assigned", "in_progress"),
        ("updated", "resolution", None, "已约谈抄表员并向客户致歉"),
        ("resolved", "state", "in_progress", "resolved"),
        ("follow_up_scheduled", None, None, None),
        ("informed", "state", "resolved", "informed"),
        ("closed", "state", "informed", "closed"),
    ]
    assert [e.actor_name for e in trail][:3] == [agent.name, agent.name, clerk.name]
    assert trail[0].at == START
    assert trail[2].at == START + dt.timedelta(seconds=1200)
    assert trail[6].note == "电话告知客户处理结果"

    published = [(await sub.get(timeout=1)).data for _ in trail]
    assert [m["type"] for m in published] == [f"ticket.{e.action}" for e in trail]
    assert published[0]["ticket"]["subject"] == "抄表员态度恶劣"
    assert published[-1]["ticket"]["state"] == "closed"
    assert published[-1]["event_id"] == f"te-{trail[-1].id}"


@pytest.mark.parametrize(
    ("steps", "illegal"),
    [
        ([], Action.INFORM),
        ([], Action.CLOSE),
        ([], Action.REOPEN),
        ([Action.START], Action.START),
        ([Action.RESOLVE], Action.RESOLVE),
        ([Action.RESOLVE, Action.CLOSE], Action.INFORM),
    ],
)
async def test_given_a_ticket_when_an_illegal_transition_is_asked_then_it_raises_and_writes_nothing(
    services: Services, steps: list[Action], illegal: Action
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(DRAFT, agent)).ticket
    for step in steps:
        t = await svc.transition(tid(t), step, agent, resolution="已处理")
    before = await svc.history(tid(t))
    with pytest.raises(IllegalTransition):
        await svc.transition(tid(t), illegal, agent, resolution="已处理")
    assert len(await svc.history(tid(t))) == len(before)
    assert (await svc.get(tid(t))).state == t.state


async def test_given_a_ticket_when_transferred_then_the_reason_is_kept_and_nobody_holds_it(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    clerk = await add_user(services, "clerk01")
    t = (await svc.create(DRAFT, agent)).ticket
    await svc.assign(tid(t), clerk.id, agent)
    await svc.transition(tid(t), Action.START, clerk)

    with pytest.raises(InvalidTicket, match="reason"):
        await svc.transfer(tid(t), "business_office", "  ", clerk)
    with pytest.raises(InvalidTicket, match="unknown department"):
        await svc.transfer(tid(t), "moon_base", "错派", clerk)
    t = await svc.transfer(tid(t), "business_office", "涉及收费争议，转营业科处理", clerk)

    assert (t.department, t.assignee_id, t.state) == ("business_office", None, TicketState.NEW)
    last = (await svc.history(tid(t)))[-1]
    assert (last.action, last.from_value, last.to_value) == (
        "transferred",
        "service_center",
        "business_office",
    )
    assert last.note == "涉及收费争议，转营业科处理"
    assert last.data["assignee_from"] == clerk.id
    assert last.actor_id == clerk.id


async def test_given_edits_when_priority_rises_then_deadlines_move_and_each_field_is_logged(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(DRAFT, agent)).ticket
    t = await svc.update(tid(t), agent, priority="high", subject="抄表员态度恶劣（二次投诉）")
    assert t.priority == TicketPriority.HIGH
    assert t.response_due_at == local("2026-11-18 11:00")  # high: 2 h
    assert t.resolution_due_at == local("2026-11-18 17:00")  # high: 8 h
    changes = [(e.field, e.from_value, e.to_value) for e in await svc.history(tid(t))][1:]
    assert changes == [
        ("priority", "normal", "high"),
        ("subject", "抄表员态度恶劣", "抄表员态度恶劣（二次投诉）"),
    ]
    with pytest.raises(InvalidTicket):
        await svc.update(tid(t), agent, number="X")
    with pytest.raises(InvalidTicket):
        await svc.update(tid(t), agent, category="nonsense")


async def test_given_a_resolved_ticket_when_reopened_then_the_resolution_clock_restarts(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(DRAFT, agent)).ticket
    t = await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已致歉")
    clock(services).set(local("2026-11-19 10:00"))
    t = await svc.transition(tid(t), Action.REOPEN, Actor.system("survey"), note="客户表示未解决")
    assert t.state == TicketState.ASSIGNED  # back to the agent who resolved it
    assert t.assignee_id == agent.id
    assert t.reopen_count == 1
    assert t.resolved_at is None
    assert t.sla_resolution_met is None
    assert t.resolution_started_at == local("2026-11-19 10:00")
    # 24 business hours from Thursday 10:00: 10 h Thu, 12 h Fri, 2 h on Saturday (from 09:00).
    assert t.resolution_due_at == local("2026-11-21 11:00")


async def test_given_history_rows_when_someone_rewrites_or_deletes_them_then_the_database_refuses(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(DRAFT, agent)).ticket
    async with services.engine.connect() as conn:
        for statement in (
            f"UPDATE ticket_events SET actor_name = 'x' WHERE ticket_id = {t.id}",
            f"DELETE FROM ticket_events WHERE ticket_id = {t.id}",
            f"DELETE FROM tickets WHERE id = {t.id}",
        ):
            with pytest.raises((IntegrityError, DBAPIError)):
                async with conn.begin():
                    await conn.execute(sa.text(statement))


async def test_given_an_open_ticket_when_archived_then_refused_and_closed_ones_stay_findable(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(DRAFT, agent)).ticket
    with pytest.raises(InvalidTicket, match="closed"):
        await svc.archive(tid(t), agent)
    await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已致歉")
    await svc.transition(tid(t), Action.CLOSE, agent)
    t = await svc.archive(tid(t), agent)
    assert t.archived
    assert t.archived_at is not None
    assert (await svc.history(tid(t)))[-1].action == "archived"
    assert (await svc.get_by_number(t.number)).id == t.id
