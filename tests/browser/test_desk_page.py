"""The agent desktop in headless Chromium against a real uvicorn (no PBX: the router's
offer is published on the bus directly): sign in, go ready, the pop card, a ticket from
the call, knowledge base, language, keyboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlmodel import select

from db.models import Call, Disposition, KbArticle, Role, Ticket, TicketCall
from devtools.seed.content import kb_articles
from hotline.http import create_app
from hotline.services import Services
from tests.browser.conftest import artifact
from tests.harness.http_app import (
    PASSWORD,
    add_call,
    add_customer,
    add_user,
    api_server,
    api_services,
)

pytestmark = pytest.mark.browser
CALL = "1900000500.3"


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Desk:
    services: Services
    base: str
    ids: dict[str, int]


@pytest.fixture
async def desk_app(db_url: str) -> AsyncIterator[Desk]:
    async with api_services(db_url) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001", display_name="李娜")
        zhang = await add_customer(
            services, "张伟", "13912345678", tier="A", arrears="312.40", account="1000000018"
        )
        await add_call(
            services,
            CALL,
            caller="13912345678",
            customer_id=zhang.id,
            agent_id=agent.id,
            agents=["1001"],
            disposition=Disposition.IN_PROGRESS,
        )
        async with services.sessions() as s:
            conn = await s.connection()
            await conn.execute(KbArticle.__table__.insert(), kb_articles(dt.datetime.now(dt.UTC)))  # type: ignore[attr-defined]
            await s.commit()
        async with api_server(create_app(services)) as base:
            assert agent.id is not None
            assert zhang.id is not None
            yield Desk(services, base, {"agent": agent.id, "zhang": zhang.id})


def offer(agent_id: int, customer_id: int) -> dict[str, Any]:
    return {
        "type": "offer",
        "agent_id": agent_id,
        "extension": "1001",
        "call_id": CALL,
        "skill": "emergency",
        "priority": 1030,
        "wait_seconds": 12.0,
        "kind": "inbound",
        "call": {
            "call_id": CALL,
            "caller_number": "13912345678",
            "caller_name": "",
            "ivr_path": ["main", "to_emergency"],
            "ivr_outcome": "queue",
            "ivr_facts": "fault=gas_leak;balance=-312.40",
            "skill": "emergency",
            "customer_id": str(customer_id),
            "tier": "A",
            "language": "zh",
            "disposition": "in_progress",
            "agents": [],
        },
    }


async def sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/desk/")
    await page.get_by_label("用户名").fill("agent01")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#me")).to_have_text("李娜 · 1001")
    await expect(page.locator("#link")).to_have_attribute("data-state", "on")


async def test_given_an_agent_when_signing_in_and_going_ready_then_the_state_shows(
    page: Page, desk_app: Desk
) -> None:
    await sign_in(page, desk_app.base)
    await page.get_by_role("button", name="签入话机").click()
    await expect(page.locator("#state-badge")).to_have_text("示忙")
    await page.get_by_role("button", name="就绪", exact=True).click()
    await expect(page.locator("#state-badge")).to_have_text("就绪")
    await page.locator("#reason").select_option("lunch")
    await page.keyboard.press("Alt+n")  # the keyboard does what the buttons do
    await expect(page.locator("#state-badge")).to_have_text("示忙 · 用餐")
    await page.keyboard.press("Alt+r")
    await expect(page.locator("#state-badge")).to_have_text("就绪")


async def test_given_an_offer_then_the_pop_card_shows_the_caller_and_a_ticket_links_to_the_call(
    page: Page, desk_app: Desk
) -> None:
    await sign_in(page, desk_app.base)
    await desk_app.services.bus.publish(
        "offer", offer(desk_app.ids["agent"], desk_app.ids["zhang"])
    )
    pop = page.locator("#pop")
    await expect(pop).to_have_attribute("data-call-id", CALL)
    await expect(page.locator("#pop-customer")).to_have_text("张伟")
    await expect(page.locator("#pop-details")).to_contain_text("¥312.40")
    await expect(page.locator("#pop-details")).to_contain_text("A · 大客户")
    await expect(page.locator("#pop-facts")).to_contain_text("报告燃气泄漏")
    await expect(page.locator("#pop-facts")).to_contain_text("已收听余额：欠费 ¥312.40")
    await expect(page.locator("#pop-ivr")).to_contain_text("选择：燃气抢险")
    # Knowledge suggested by the line and the IVR path (emergency, to_emergency: safety).
    await expect(page.locator("#kb-suggested-title")).to_be_visible()
    await expect(page.locator("#kb-suggested li button").first).to_have_text("闻到燃气味怎么办")
    # The ticket form is filled from the call.
    await expect(page.locator("#t-category")).to_have_value("repair")
    await expect(page.locator("#t-priority")).to_have_value("urgent")
    await expect(page.locator("#t-subject")).to_have_value("燃气抢险 · 张伟 · 报告燃气泄漏")
    # Agents see masked numbers (privacy): the form holds the caller's number masked,
    # the ticket keeps the full one (desk/routes/call_tickets_api.py).
    await expect(page.locator("#t-contact")).to_have_value("139****5678")
    await expect(page.locator("#pop")).not_to_contain_text("13912345678")
    await page.screenshot(path=artifact("desk-pop.png"), full_page=True)
    await page.get_by_role("button", name="创建工单").click()
    result = page.locator("#ticket-result")
    await expect(result).to_contain_text("已创建工单 GD")
    ticket_id = int(await result.get_attribute("data-ticket-id") or 0)
    async with desk_app.services.sessions() as s:
        link = (await s.exec(select(TicketCall).where(TicketCall.ticket_id == ticket_id))).one()
        call = (await s.exec(select(Call).where(Call.id == link.call_id))).one()
    assert (call.linkedid, link.relation) == (CALL, "created_from")
    async with desk_app.services.sessions() as s:
        ticket = await s.get(Ticket, ticket_id)
    assert ticket is not None
    assert ticket.contact_number == "13912345678"
    # Call history of the customer (the same call).
    await expect(page.locator("#history tbody tr")).to_have_count(1)


async def test_given_the_english_switch_and_a_kb_search_then_english_and_articles(
    page: Page, desk_app: Desk
) -> None:
    await sign_in(page, desk_app.base)
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    await page.keyboard.press("Alt+k")
    await page.keyboard.type("gas")
    await page.keyboard.press("Enter")
    first = page.locator("#kb-results li button").first
    await expect(first).to_be_visible()
    await first.press("Enter")
    await expect(first).to_have_attribute("aria-expanded", "true")
    await expect(page.locator("#kb-results .kb-body").first).to_be_visible()
