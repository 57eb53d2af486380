"""The administration page in headless Chromium against a real uvicorn with the real
router (on a fake PBX: nothing is dialled), in Chinese and English: an admin creates an
agent with an extension and a skill; the agent signs in on the desk, is forced to change
the temporary password, changes it, reaches the desk, goes ready and takes a call the
router offers (pop, then answered: on a call). Then the admin edits the calendar and
reads the audit log. Screenshots: test-artifacts/admin-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect
from sqlmodel import select

from cti.fake_pbx import FakePbx
from db.models import Role, User
from hotline.http import create_app
from hotline.services import Services
from routing.service import RoutingService
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_user, api_server, api_services
from tests.support import eventually

pytestmark = pytest.mark.browser
TEMPORARY = "Temp2026pass"
NEW = "Binjiang2027hotline"

WORDS = {
    "zh": {
        "username": "用户名",
        "password": "密码",
        "signin": "登录",
        "new_user": "新建用户",
        "display_name": "姓名",
        "extension": "分机号",
        "skill": "账务缴费",
        "temp": "临时密码（留空则自动生成）",
        "save": "保存",
        "pw_new": "新密码",
        "pw_repeat": "再次输入新密码",
        "pw_submit": "修改密码",
        "phone_in": "签入话机",
        "ready": "就绪",
        "on_call": "通话中",
        "tab_calendar": "工作日历",
        "tab_audit": "审计日志",
        "add_day": "保存日期",
        "search": "查询",
        "day": "日期",
        "state_must": "待改密",
        "state_active": "在用",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "signin": "Sign in",
        "new_user": "New user",
        "display_name": "Display name",
        "extension": "Extension",
        "skill": "Billing and payments",
        "temp": "Temporary password (empty: one is generated)",
        "save": "Save",
        "pw_new": "New password",
        "pw_repeat": "New password again",
        "pw_submit": "Change password",
        "phone_in": "Sign in to phone",
        "ready": "Ready",
        "on_call": "On a call",
        "tab_calendar": "Calendar",
        "tab_audit": "Audit log",
        "add_day": "Save date",
        "search": "Search",
        "day": "Date",
        "state_must": "Must change password",
        "state_active": "Active",
    },
}


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    router: RoutingService
    base: str


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with api_services(db_url) as services:
        await add_user(services, "boss", Role.ADMIN, display_name="王管理")
        services.pbx = FakePbx()
        router = RoutingService(services)  # features.routing: new agents join it at once
        await router.start()
        try:
            async with api_server(create_app(services)) as base:
                yield Center(services, router, base)
        finally:
            await router.stop()


async def sign_in(page: Page, url: str, w: dict[str, str], username: str, password: str) -> None:
    await page.goto(url)
    form = page.locator("#signin-form")
    await form.get_by_label(w["username"]).fill(username)
    await form.get_by_label(w["password"]).fill(password)
    await form.get_by_role("button", name=w["signin"], exact=True).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_given_an_admin_creating_an_agent_then_the_agent_changes_the_password_and_takes_a_call(
    page: Page, center: Center, lang: str
) -> None:
    w = WORDS[lang]
    await page.add_init_script(f"localStorage.setItem('hotline.lang', '{lang}')")
    await sign_in(page, f"{center.base}/admin/", w, "boss", PASSWORD)
    await expect(page.locator("#me")).to_have_text("王管理")
    await expect(page.locator('#users tr[data-username="boss"]')).to_be_visible()

    # The admin creates agent31 with an extension and a skill, and a temporary password.
    await page.get_by_role("button", name=w["new_user"]).click()
    form = page.locator("#user-form")
    await form.get_by_label(w["username"]).fill("agent31")
    await form.get_by_label(w["display_name"]).fill("李小梅")
    await form.get_by_label(w["extension"]).fill("1031")
    await form.get_by_label(w["skill"]).fill("8")
    await form.get_by_label(w["temp"]).fill(TEMPORARY)
    await form.get_by_role("button", name=w["save"]).click()
    row = page.locator('#users tr[data-username="agent31"]')
    await expect(row).to_contain_text("1031")
    await expect(row).to_contain_text(w["state_must"])
    await page.screenshot(path=artifact(f"admin-users-{lang}.png"), full_page=True)
    async with center.services.sessions() as s:
        agent = (await s.exec(select(User).where(User.username == "agent31"))).one()
    assert agent.id is not None
    assert {sk.skill: sk.level for sk in agent.skills} == {"billing": 8}
    assert center.router.router.agents[agent.id].skills == {"billing": 8}  # router knows

    # The agent signs in on the desk (another tab): forced to change the password first.
    desk = await page.context.new_page()
    await sign_in(desk, f"{center.base}/desk/", w, "agent31", TEMPORARY)
    await expect(desk.locator("#pw-form")).to_be_visible()
    await expect(desk.locator("#signin-form")).to_be_hidden()
    await expect(desk.locator("#me")).to_be_hidden()
    await desk.get_by_label(w["pw_new"], exact=True).fill("short1")
    await desk.get_by_label(w["pw_repeat"]).fill("short1")
    await desk.get_by_role("button", name=w["pw_submit"]).click()
    await expect(desk.locator("#pw-error")).to_contain_text("10")
    await desk.screenshot(path=artifact(f"admin-forced-change-{lang}.png"), full_page=True)
    await desk.get_by_label(w["pw_new"], exact=True).fill(NEW)
    await desk.get_by_label(w["pw_repeat"]).fill(NEW)
    await desk.keyboard.press("Enter")  # the keyboard submits the form
    await expect(desk.locator("#me")).to_have_text("李小梅 · 1031")
    await expect(desk.locator("#desk")).to_be_visible()

    # ... goes ready and takes a call the router offers.
    await desk.get_by_role("button", name=w["phone_in"]).click()
    await desk.get_by_role("button", name=w["ready"], exact=True).click()
    await expect(desk.locator("#state-badge")).to_have_text(w["ready"])
    router = center.router
    router.ctx.live.get("c-1").snapshot = {"caller_number": "13912345678"}
    await router.ctx.run(router.router.enqueue, "c-1", "billing", priority=10)

    agent_id = agent.id

    async def reserved() -> bool:
        return bool(router.agent(agent_id)["state"] == "reserved")

    await eventually(reserved, 10, "the router offers the call to agent31")
    await expect(desk.locator("#pop")).to_have_attribute("data-call-id", "c-1")
    await router.ctx.run(router.router.answered, "c-1")
    await expect(desk.locator("#state-badge")).to_have_text(w["on_call"])
    await desk.screenshot(path=artifact(f"admin-agent-on-call-{lang}.png"), full_page=True)

    # Back in the admin page: the agent's account is now plain active.
    await page.bring_to_front()
    await page.get_by_role("tab", name=w["tab_calendar"]).click()
    await page.get_by_role("tab", name=w["tab_audit"]).focus()
    await page.keyboard.press("ArrowLeft")  # tabs move with the arrow keys
    await expect(page.get_by_role("tab", name=w["tab_calendar"])).to_have_attribute(
        "aria-selected", "true"
    )
    await page.locator("#d-day").fill("2027-01-04")
    await page.locator("#d-note").fill("测试休息日")
    await page.get_by_role("button", name=w["add_day"]).click()
    await expect(page.locator('#cal-days tr[data-day="2027-01-04"]')).to_contain_text("测试休息日")
    await page.get_by_role("tab", name=w["tab_audit"]).click()
    await page.locator("#a-action").fill("user.")
    await page.locator("#audit-form").get_by_role("button", name=w["search"]).click()
    await expect(page.locator("#audit-rows")).to_contain_text("user.create")
    await page.screenshot(path=artifact(f"admin-audit-{lang}.png"), full_page=True)
    await page.get_by_role("tab", name=w["tab_audit"]).focus()
    await page.keyboard.press("Home")
    await expect(page.locator('#users tr[data-username="agent31"]')).to_contain_text(
        w["state_active"]
    )


async def test_an_agent_account_is_turned_away(page: Page, center: Center) -> None:
    await add_user(center.services, "agent09", Role.AGENT, "1009")
    await sign_in(page, f"{center.base}/admin/", WORDS["zh"], "agent09", PASSWORD)
    await expect(page.locator("#signin-error")).to_have_text("需要管理员账号")
    await expect(page.locator("#board")).to_be_hidden()
