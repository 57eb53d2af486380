"""SLA clocks with a controlled clock: deadlines in business hours across a weekend and
the National Day holidays, warnings and breaches reported at their instants (not a
second early), escalation levels, SLA met/breached on the ticket, alerts on the bus."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.models import Role, TicketPriority
from hotline.services import Services
from kernel import topics
from kernel.bus.port import Subscription
from kernel.clock import FakeClock
from tests.integration.tickets.support import add_user, local, make_services, tid
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService
from tickets.sla import SlaMonitor

# Wednesday 2026-09-30 19:00, the evening before National Day. Open hours: weekdays
# 08-20, Saturdays 09-17; holidays Thu 10-01, Fri 10-02, Mon 10-05.
CREATED = local("2026-09-30 19:00")
ONE_SECOND = dt.timedelta(seconds=1)


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(CREATED)


@pytest.fixture
async def services(db_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    async for s in make_services(db_url, clock=clock):
        yield s


@pytest.fixture
async def monitor(services: Services) -> AsyncIterator[SlaMonitor]:
    m = SlaMonitor(services)
    await m.start()
    try:
        yield m
    finally:
        await m.stop()


async def next_alert(sub: Subscription) -> dict[str, Any]:
    return (await sub.get(timeout=5)).data


async def test_given_a_complaint_before_the_holidays_then_each_alert_comes_at_its_business_instant(
    services: Services, clock: FakeClock, monitor: SlaMonitor
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    clerk = await add_user(services, "clerk01", department="service_center")
    lead = await add_user(services, "lead01", role=Role.SUPERVISOR, department="service_center")
    alerts = await services.bus.subscribe(topics.ALERT)
    t = (
        await svc.create(TicketDraft(category="complaint", subject="维修人员未按约定上门"), agent)
    ).ticket
    await svc.assign(tid(t), clerk.id, agent)

    # Response: 4 business hours = Wed 19-20, then (Thu, Fri holidays) Sat 09-12.
    assert t.response_due_at == local("2026-10-03 12:00")
    assert t.response_warn_at == local("2026-10-03 11:12")  # 80 % = 3.2 h
    # Resolution: 24 h = Wed 1 + Sat 8 + (Sun closed, Mon holiday) Tue 12 + Wed 08-11.
    assert t.resolution_due_at == local("2026-10-07 11:00")
    assert t.resolution_warn_at == local("2026-10-06 18:12")  # 19.2 h
    # The monitor sleeps until the first instant instead of polling.
    assert await monitor.next_due() == local("2026-10-03 11:12")

    async def at(instant: dt.datetime) -> dict[str, Any]:
        clock.set(instant - ONE_SECOND)
        assert await monitor.run_due() == []  # not a second early
        clock.set(instant)
        monitor.poke()
        return await next_alert(alerts)

    warning = await at(local("2026-10-03 11:12"))
    assert warning["type"] == "sla.warning"
    assert (warning["clock"], warning["level"]) == ("response", 0)
    assert warning["department"] == "service_center"
    assert warning["department_label"] == "客户服务中心"
    assert warning["ticket"]["number"] == t.number
    assert warning["ticket"]["subject"] == "维修人员未按约定上门"
    assert warning["notify"]["user_ids"] == sorted([lead.id, clerk.id])  # type: ignore[type-var]

    breach = await at(local("2026-10-03 12:00"))
    assert (breach["type"], breach["clock"], breach["level"]) == ("sla.breach", "response", 1)
    assert breach["due_at"] == local("2026-10-03 12:00").astimezone(dt.UTC).isoformat()
    t = await svc.get(tid(t))
    assert t.sla_response_met is False
    assert t.escalation_level == 1

    # Work starts late: the response clock stops (still breached), resolution runs on.
    clock.set(local("2026-10-06 09:00"))
    t = await svc.transition(tid(t), Action.START, clerk)
    assert t.sla_response_met is False
    assert await monitor.next_due() == local("2026-10-06 18:12")

    warning = await at(local("2026-10-06 18:12"))
    assert (warning["type"], warning["clock"], warning["level"]) == ("sla.warning", "resolution", 0)
    breach = await at(local("2026-10-07 11:00"))
    assert (breach["type"], breach["clock"], breach["level"]) == ("sla.breach", "resolution", 1)
    # Escalations at +50 % (12 business hours: Wed 11-20, Thu 08-11) and +100 %.
    level2 = await at(local("2026-10-08 11:00"))
    assert (level2["type"], level2["level"]) == ("sla.breach", 2)
    assert "admin" in level2["notify"]["roles"]
    level3 = await at(local("2026-10-09 11:00"))
    assert level3["level"] == 3
    assert await monitor.next_due() is None  # nothing left to report

    t = await svc.get(tid(t))
    assert (t.sla_resolution_met, t.escalation_level) == (False, 3)
    trail = [
        (e.action, e.field, e.to_value)
        for e in await svc.history(tid(t))
        if e.action.startswith(("sla", "esc"))
    ]
    assert trail == [
        ("sla_warning", "sla_response", "0"),
        ("sla_breached", "sla_response", "1"),
        ("sla_warning", "sla_resolution", "0"),
        ("sla_breached", "sla_resolution", "1"),
        ("escalated", "sla_resolution", "2"),
        ("escalated", "sla_resolution", "3"),
    ]
    # Resolving late records the breach; no clock runs any more.
    t = await svc.transition(tid(t), Action.RESOLVE, clerk, resolution="已重新预约上门")
    assert t.sla_resolution_met is False
    assert t.sla_next_at is None


async def test_given_a_ticket_resolved_in_time_then_no_alert_and_sla_met(
    services: Services, clock: FakeClock, monitor: SlaMonitor
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(TicketDraft(category="inquiry", subject="咨询营业时间"), agent)).ticket
    clock.set(local("2026-10-03 09:30"))  # 30 business minutes later
    t = await svc.transition(tid(t), Action.RESOLVE, agent, resolution="已告知")
    assert (t.sla_response_met, t.sla_resolution_met) == (True, True)
    clock.set(local("2026-12-31 12:00"))
    assert await monitor.run_due() == []
    assert await monitor.next_due() is None


async def test_given_the_monitor_was_away_past_a_deadline_then_only_the_breach_is_reported(
    services: Services, clock: FakeClock
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    # Repairs run 24x7: urgent = 15 minutes to respond, 2 hours to resolve.
    t = (
        await svc.create(
            TicketDraft(category="repair", subject="燃气管道漏气", priority=TicketPriority.URGENT),
            agent,
        )
    ).ticket
    assert t.response_due_at == CREATED + dt.timedelta(minutes=15)
    assert t.resolution_due_at == CREATED + dt.timedelta(hours=2)
    clock.set(CREATED + dt.timedelta(minutes=30))
    reported = await SlaMonitor(services).run_due()
    assert [(a["type"], a["clock"], a["level"]) for a in reported] == [
        ("sla.breach", "response", 1)
    ]
    # Run twice (a second monitor process): nothing is reported again.
    assert await SlaMonitor(services).run_due() == []
