"""An agent campaign's pop on the desk in headless Chromium (no PBX: the router's offer
is published on the bus directly): marked as a campaign call with the campaign's name;
a preview offers "call" and "skip" (buttons and Alt+C / Alt+S) with a countdown, and the
choice reaches the router as campaign.preview_decision; zh and en."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Page, expect

from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from kernel import topics
from kernel.bus.port import BusClosed
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_customer, add_user, api_server, api_services
from tests.support import eventually

pytestmark = pytest.mark.browser


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Desk:
    services: Services
    base: str
    agent_id: int
    customer_id: int
    decisions: list[dict[str, Any]]


@pytest.fixture
async def desk_app(db_url: str) -> AsyncIterator[Desk]:
    async with api_services(db_url) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001", display_name="李娜")
        wang = await add_customer(
            services, "王芳", "13712345678", tier="B", arrears="128.50", account="1000000026"
        )
        assert agent.id is not None
        assert wang.id is not None
        decisions: list[dict[str, Any]] = []
        sub = await services.bus.subscribe(topics.CAMPAIGN)

        async def listen() -> None:
            with contextlib.suppress(BusClosed):
                while True:
                    msg = await sub.get()
                    if msg.data.get("type") == "campaign.preview_decision":
                        decisions.append(msg.data)

        task = asyncio.create_task(listen())
        try:
            async with api_server(create_app(services)) as base:
                yield Desk(services, base, agent.id, wang.id, decisions)
        finally:
            await sub.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)


def preview_offer(desk: Desk, call_id: str, seconds: int = 30) -> dict[str, Any]:
    return {
        "type": "offer",
        "agent_id": desk.agent_id,
        "extension": "1001",
        "call_id": call_id,
        "skill": "billing",
        "priority": -1,
        "wait_seconds": 0.0,
        "kind": "campaign",
        "call": {
            "call_id": call_id,
            "direction": "out",
            "caller_number": "13712345678",
            "customer_id": desk.customer_id,
            "skill": "billing",
            "campaign_id": 7,
            "campaign_name": "欠费提醒外呼",
            "campaign_contact_id": 3,
            "dial_mode": "preview",
            "preview_seconds": seconds,
        },
    }


async def sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/desk/")
    await page.get_by_label("用户名").fill("agent01")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "on")


async def test_a_preview_pop_shows_the_file_and_the_agent_skips_or_calls_in_zh_and_en(
    page: Page, desk_app: Desk
) -> None:
    await sign_in(page, desk_app.base)
    bus = desk_app.services.bus
    await bus.publish("offer", preview_offer(desk_app, "hlob-cp3xaa01"))
    await expect(page.locator("#pop")).to_have_attribute("data-call-id", "hlob-cp3xaa01")
    await expect(page.locator("#campaign")).to_be_visible()
    await expect(page.locator("#campaign")).to_contain_text("外呼活动")
    await expect(page.locator("#campaign-name")).to_have_text("欠费提醒外呼")
    await expect(page.locator("#pop-customer")).to_have_text("王芳")
    await expect(page.locator("#pop-details")).to_contain_text("¥128.50")
    await expect(page.locator("#preview-count")).to_contain_text("秒后自动呼叫")
    call = page.get_by_role("button", name="立即呼叫")
    skip = page.get_by_role("button", name="跳过此客户")
    await expect(call).to_be_focused()  # the keyboard starts on the choice
    await expect(skip).to_be_enabled()
    await page.screenshot(path=artifact("desk-campaign-preview-zh.png"), full_page=True)
    await page.keyboard.press("Alt+s")
    await expect(page.locator("#preview-count")).to_have_text("已跳过，稍后再呼")
    await expect(call).to_be_disabled()
    await eventually(lambda: len(desk_app.decisions) == 1, 10, "the skip reaches the bus")
    assert desk_app.decisions[0] == {
        "type": "campaign.preview_decision",
        "agent_id": desk_app.agent_id,
        "call_id": "hlob-cp3xaa01",
        "decision": "skip",
    }

    await page.locator("#lang").click()  # English
    await bus.publish("offer", preview_offer(desk_app, "hlob-cp3xbb02"))
    await expect(page.locator("#pop")).to_have_attribute("data-call-id", "hlob-cp3xbb02")
    await expect(page.locator("#campaign")).to_contain_text("Campaign call")
    await expect(page.locator("#preview-count")).to_contain_text("Calling automatically in")
    await page.screenshot(path=artifact("desk-campaign-preview-en.png"), full_page=True)
    await page.get_by_role("button", name="Call now").click()
    await expect(page.locator("#preview-count")).to_have_text("Calling the customer…")
    await eventually(lambda: len(desk_app.decisions) == 2, 10, "the call reaches the bus")
    assert desk_app.decisions[1]["decision"] == "call"

    # Not acted on: the countdown ends and says the call is placed (the router places it).
    await bus.publish("offer", preview_offer(desk_app, "hlob-cp3xcc03", seconds=1))
    await expect(page.locator("#pop")).to_have_attribute("data-call-id", "hlob-cp3xcc03")
    await expect(page.locator("#preview-count")).to_have_text("Calling the customer…")
    await expect(page.get_by_role("button", name="Call now")).to_be_disabled()
    assert len(desk_app.decisions) == 2  # the page sends nothing: the router's timeout acts


async def test_a_progressive_campaign_pop_is_marked_without_choices(
    page: Page, desk_app: Desk
) -> None:
    await sign_in(page, desk_app.base)
    offer = preview_offer(desk_app, "hlob-cp4xdd04")
    offer["call"]["dial_mode"] = "progressive"
    await desk_app.services.bus.publish("offer", offer)
    await expect(page.locator("#pop")).to_have_attribute("data-call-id", "hlob-cp4xdd04")
    await expect(page.locator("#campaign-name")).to_have_text("欠费提醒外呼")
    await expect(page.locator("#preview")).to_be_hidden()
