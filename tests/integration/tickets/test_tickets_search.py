"""Finding tickets: Chinese full text (two-character words), notes, number, customer,
phone, state and category, with archived tickets found like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from db.models import Ticket, TicketState
from hotline.services import Services
from tests.integration.tickets.support import add_customer, add_user, make_services, tid
from tickets.lifecycle import Action
from tickets.records import TicketDraft, TicketQuery
from tickets.service import TicketService


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


def subjects(found: list[Ticket]) -> set[str]:
    return {t.subject for t in found}


async def test_given_tickets_when_searched_by_chinese_words_then_matches_come_back_archived_too(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    customer = await add_customer(services, "3301000009", "周杰", ["13812345678", "057188886666"])
    leak = (
        await svc.create(
            TicketDraft(
                category="repair", subject="厨房燃气泄漏", description="闻到煤气味，已关阀门"
            ),
            agent,
        )
    ).ticket
    await svc.create(
        TicketDraft(category="billing_dispute", subject="水费账单金额有误", customer_id=customer),
        agent,
    )
    meter = (
        await svc.create(
            TicketDraft(
                category="repair", subject="Meter broken 表具损坏", contact_number="13900000000"
            ),
            agent,
        )
    ).ticket
    await svc.add_note(tid(meter), "已派抢修科师傅上门更换新表", agent)
    await svc.transition(tid(leak), Action.RESOLVE, agent, resolution="已修复接口")
    await svc.transition(tid(leak), Action.CLOSE, agent)
    await svc.archive(tid(leak), agent)

    async def text(q: str, **kw: object) -> set[str]:
        return subjects(await svc.search(TicketQuery(text=q, **kw)))  # type: ignore[arg-type]

    assert await text("燃气") == {"厨房燃气泄漏"}  # the archived one is found
    assert await text("燃气", archived=False) == set()
    assert await text("泄漏") == {"厨房燃气泄漏"}
    assert await text("燃气泄漏") == {"厨房燃气泄漏"}
    assert await text("气泄 阀门") == {"厨房燃气泄漏"}  # every word must match
    assert await text("泄燃") == set()  # characters present, word absent
    assert await text("账单") == {"水费账单金额有误"}
    assert await text("更换") == {"Meter broken 表具损坏"}  # a note
    assert await text("meter") == {"Meter broken 表具损坏"}
    assert await text("漏") == {"厨房燃气泄漏"}  # one character: substring scan
    assert await text("修复") == {"厨房燃气泄漏"}  # the resolution

    by_phone = await svc.search(TicketQuery(phone="0571-8888 6666"))
    assert subjects(by_phone) == {"水费账单金额有误"}  # a phone of the customer
    assert subjects(await svc.search(TicketQuery(phone="+8613900000000"))) == {
        "Meter broken 表具损坏"
    }
    assert subjects(await svc.search(TicketQuery(customer_id=customer))) == {"水费账单金额有误"}
    assert subjects(await svc.search(TicketQuery(number=leak.number.lower()))) == {"厨房燃气泄漏"}
    assert len(await svc.search(TicketQuery(number=leak.number[:11] + "*"))) == 3
    assert subjects(await svc.search(TicketQuery(states=[TicketState.CLOSED]))) == {"厨房燃气泄漏"}
    assert subjects(await svc.search(TicketQuery(category="repair", archived=False))) == {
        "Meter broken 表具损坏"
    }
    page = await svc.search(TicketQuery(limit=2))
    assert [t.subject for t in page] == [
        "Meter broken 表具损坏",
        "水费账单金额有误",
    ]  # newest first
