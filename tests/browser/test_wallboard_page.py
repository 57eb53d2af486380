"""The wallboard in headless Chromium against a real uvicorn and the real LiveService:
a supervisor signs in and sees the tiles; a caller queueing (a "call" bus event shaped
as the tracker's), an agent going on a break and a ticket SLA breach on "alert" show up
live; English; an agent account is turned away. Screenshot test-artifacts/wallboard.png."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect

from db.models import AgentSkill, Role
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import SystemClock
from supervisor.live_service import LiveService
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_user, api_server, api_services

pytestmark = pytest.mark.browser


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    base: str
    agent_id: int


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with api_services(db_url, clock=SystemClock()) as services:
        await add_user(services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
        await add_user(services, "agent02", Role.AGENT, "1002", display_name="王芳")
        agent = await add_user(services, "agent03", Role.AGENT, "1003", display_name="张伟")
        assert agent.id is not None
        async with services.sessions() as session:
            session.add(AgentSkill(user_id=agent.id, skill="billing", level=8))
            await session.commit()
        live = LiveService(services, min_interval=0.1)
        await live.start()
        try:
            async with api_server(create_app(services)) as base:
                yield Center(services, base, agent.id)
        finally:
            await live.stop()


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/wallboard")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def test_given_a_supervisor_when_events_arrive_then_the_tiles_update_live(
    page: Page, center: Center
) -> None:
    await sign_in(page, center.base, "boss")
    await expect(page.locator("#link")).to_have_text("实时", timeout=30_000)
    billing = page.locator('.tile[data-queue="billing"]')
    await expect(billing.locator("h2")).to_have_text("账务缴费")
    await expect(billing.locator('[data-field="waiting"]')).to_have_text("0")
    await expect(page.locator("#alerts")).to_have_text("暂无告警。")

    now = time.time()
    bus = center.services.bus
    await bus.publish(
        "call",
        {
            "type": "call.queued",
            "call_id": "wb-1",
            "seq": 3,
            "at": now,
            "call": {
                "call_id": "wb-1",
                "caller_number": "13800138000",
                "skill": "billing",
                "started_at": now - 20,
                "queued_at": now - 15,
                "disposition": "in_progress",
                "agents": [],
            },
        },
    )
    await bus.publish(
        "agent",
        {
            "type": "agent.state",
            "agent_id": center.agent_id,
            "extension": "1003",
            "state": "not_ready",
            "reason": "lunch",
            "at": now,
        },
    )
    await expect(billing.locator('[data-field="waiting"]')).to_have_text("1", timeout=30_000)
    await expect(billing.locator('[data-field="offered"]')).to_have_text("1")
    await expect(billing.locator('[data-field="not_ready"]')).to_have_text("1")
    await expect(page.locator('.tile.center [data-field="waiting"]')).to_have_text("1")
    await expect(page.locator('#agents tr[data-state="not_ready"] td').nth(1)).to_have_text(
        "示忙 · 用餐"
    )
    await expect(page.locator("#chart-waiting polyline")).to_have_count(1)
    await expect(page.locator("#chart-sl svg text").first).to_be_visible()

    await bus.publish(
        "alert",
        {
            "type": "sla.breach",
            "clock": "resolution",
            "level": 1,
            "department": "repair",
            "ticket": {"id": 3, "number": "T-0003", "subject": "燃气表漏气"},
            "at": "2026-03-02T08:00:05+00:00",
            "notify": {"roles": ["supervisor"], "user_ids": []},
        },
    )
    alert = page.locator('#alerts li[data-kind="sla.breach"]')
    await expect(alert).to_contain_text("工单 T-0003「燃气表漏气」超出 SLA（解决）", timeout=30_000)
    await page.screenshot(path=str(artifact("wallboard.png")), full_page=True)

    await page.get_by_role("button", name="English").click()
    await expect(billing.locator("h2")).to_have_text("Billing and payments")
    await expect(alert).to_contain_text("Ticket T-0003 “燃气表漏气” breached its resolution SLA")
    await page.screenshot(path=str(artifact("wallboard-en.png")), full_page=True)


async def test_given_an_agent_account_then_turned_away(page: Page, center: Center) -> None:
    await sign_in(page, center.base, "agent02")
    await expect(page.locator("#signin-error")).to_have_text("需要班长或管理员账号")
    await expect(page.locator("#board")).to_be_hidden()
