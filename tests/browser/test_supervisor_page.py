"""The supervisor page in headless Chromium against a real uvicorn with the real router (on
a fake PBX: nothing is dialled; listen/whisper/barge on Asterisk is
tests/integration/supervisor/test_supervisor_spy.py): sign in as a supervisor, see the agents, force
one not ready, change skills, raise a waiting call -- each checked on the server and in
the audit trail; an agent account is turned away; English."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from cti.commands import ChannelInfo
from cti.fake_pbx import FakePbx
from db.models import AgentSkill, Role, metadata
from hotline.http import create_app
from hotline.services import Services
from routing.service import RoutingService
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_user, api_server, api_services
from tests.support import eventually

pytestmark = pytest.mark.browser
AUDIT = metadata.tables["audit_log"]


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    router: RoutingService
    base: str
    agent_id: int


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with api_services(db_url) as services:
        await add_user(services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
        agent = await add_user(services, "agent02", Role.AGENT, "1002", display_name="王芳")
        await add_user(services, "agent03", Role.AGENT, "1003", display_name="张伟")
        assert agent.id is not None
        async with services.sessions() as session:
            session.add(AgentSkill(user_id=agent.id, skill="billing", level=8))
            await session.commit()
        services.pbx = FakePbx()
        router = RoutingService(services)
        await router.start()
        try:
            await router.login(agent.id, ready=True)
            async with api_server(create_app(services)) as base:
                yield Center(services, router, base, agent.id)
        finally:
            await router.stop()


def channel(name: str, uid: str, context: str, *, bridge: str = "") -> ChannelInfo:
    return ChannelInfo(uid, uid, name, context, "1002", "Up", "", bridge, "00:00:05")


async def audit_actions(services: Services) -> list[tuple[str, str]]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT.c.action, AUDIT.c.actor_name)
            .where(AUDIT.c.action.startswith("supervisor."))
            .order_by(AUDIT.c.id)
        )
        return [(r.action, r.actor_name) for r in rows]


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/supervisor")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def test_given_a_supervisor_when_forcing_an_agent_not_ready_then_the_router_has_it(
    page: Page, center: Center
) -> None:
    await sign_in(page, center.base, "boss")
    await expect(page.locator("#me")).to_have_text("陈主管 · 1901")
    row = page.locator(f'#agents tr[data-agent-id="{center.agent_id}"]')
    await expect(row.locator(".badge")).to_have_text("就绪")
    await expect(row.locator("td").first).to_have_text("王芳 · 1002")
    await expect(row.get_by_role("button", name="监听")).to_be_disabled()  # not on a call
    await expect(page.locator("#my-ext")).to_have_value("1901")

    await page.get_by_label("示忙原因").select_option("meeting")
    await row.get_by_role("button", name="强制示忙").click()
    await expect(row.locator(".badge")).to_have_text("示忙 · 会议")
    await expect(page.locator("#status")).to_have_text("王芳 已示忙")
    view = center.router.agent(center.agent_id)
    assert (view["state"], view["reason"]) == ("not_ready", "meeting")
    assert await audit_actions(center.services) == [("supervisor.force_not_ready", "boss")]

    # Skills, live: the next routing decision uses them.
    await row.get_by_role("button", name="技能").click()
    dialog = page.locator("#skills-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("燃气抢险").fill("3")
    await dialog.get_by_label("账务缴费").fill("9")
    await dialog.get_by_label("English").check()
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).to_be_hidden()
    await expect(row.locator(".skills-cell")).to_have_text("账务缴费 9，燃气抢险 3")
    assert center.router.router.agents[center.agent_id].skills == {"billing": 9, "emergency": 3}

    # A waiting caller moved ahead of the line: above c-1, a tier-C caller waiting for
    # ten minutes, whom ageing (routing.core.ageing, 5 a minute up to 30) already put at 30.
    router = center.router
    router.ctx.live.get("c-1").snapshot = {"caller_number": "13800000001"}
    router.ctx.live.get("c-2").snapshot = {"caller_number": "13800000002"}
    long_ago = router.ctx.clock.timestamp() - 600
    await router.ctx.run(router.router.enqueue, "c-1", "billing", priority=10, enqueued_at=long_ago)
    await router.ctx.run(router.router.enqueue, "c-2", "billing", priority=20)
    assert router.waiting_call("c-1")["effective_priority"] == 30
    second = page.locator('#calls tr[data-call-id="c-2"]')
    await expect(second).to_be_visible(timeout=10_000)
    await expect(second.locator("td").nth(1)).to_have_text("账务缴费")
    await page.screenshot(path=artifact("supervisor-board.png"), full_page=True)
    await second.get_by_role("button", name="提前").click()
    await expect(page.locator("#calls tr").first).to_have_attribute("data-call-id", "c-2")
    assert router.waiting_call("c-2")["priority"] == 31

    await page.get_by_role("button", name="English").click()
    await expect(row.locator(".badge")).to_have_text("Not ready · Meeting")
    await expect(row.get_by_role("button", name="Sign out")).to_be_enabled()
    await row.get_by_role("button", name="Sign out").click()
    await expect(row.locator(".badge")).to_have_text("Signed out")

    async def all_audited() -> bool:
        return await audit_actions(center.services) == [
            ("supervisor.force_not_ready", "boss"),
            ("supervisor.skills", "boss"),
            ("supervisor.call_priority", "boss"),
            ("supervisor.force_sign_out", "boss"),
        ]

    await eventually(all_audited, 10, "four audited actions")
    assert center.router.agent(center.agent_id)["state"] == "logged_out"


async def test_an_agent_account_is_turned_away(page: Page, center: Center) -> None:
    await sign_in(page, center.base, "agent03")
    await expect(page.locator("#signin-error")).to_have_text("需要班长或管理员账号")
    await expect(page.locator("#board")).to_be_hidden()


async def test_listen_then_whisper_then_hang_up_from_the_page(page: Page, center: Center) -> None:
    router, pbx = center.router, center.services.pbx
    assert isinstance(pbx, FakePbx)
    router.ctx.live.get("c-9").snapshot = {"caller_number": "13912345678"}
    await router.ctx.run(router.router.enqueue, "c-9", "billing", priority=10)
    await router.ctx.run(router.router.answered, "c-9")
    assert router.agent(center.agent_id)["state"] == "on_call"
    pbx.live.append(channel("PJSIP/1002-00000001", "a-1", "hotline-connect", bridge="br-1"))

    await sign_in(page, center.base, "boss")
    row = page.locator(f'#agents tr[data-agent-id="{center.agent_id}"]')
    await expect(row.locator(".badge")).to_have_text("通话中")
    await expect(row.locator("td").nth(3)).to_have_text("13912345678")
    await row.get_by_role("button", name="监听").click()
    await expect(page.locator("#status")).to_have_text("正在呼叫您的分机 1901…")
    ((_, args),) = [c for c in pbx.commands if c[0] == "originate"]
    assert (args["endpoint"], args["context"], args["exten"]) == (
        "PJSIP/1901",
        "hotline-spy",
        "1002",
    )
    assert args["variables"]["HOTLINE_SPY_OPTIONS"] == "qEb"

    # The supervisor answers: Asterisk runs the spy context on their phone's channel.
    sid, spy = args["uniqueid"], "PJSIP/1901-00000002"
    pbx.live.append(channel(spy, args["uniqueid"], "hotline-spy"))
    for var, value in args["variables"].items():
        pbx.variables[(spy, var)] = value
    session = page.locator(f'#spies li[data-session-id="{sid}"]')
    await expect(session.locator(".spy-mode")).to_have_text("监听中", timeout=10_000)
    await expect(session).to_contain_text("王芳 · 1002")
    await page.screenshot(path=artifact("supervisor-listening.png"), full_page=True)
    await session.get_by_role("button", name="耳语").click()
    await expect(session.locator(".spy-mode")).to_have_text("耳语中")
    assert (
        "redirect",
        {"channel": spy, "context": "hotline-spy", "exten": "1002", "extra": None},
    ) in pbx.commands
    assert pbx.variables[(spy, "HOTLINE_SPY_OPTIONS")] == "qEwb"

    await session.get_by_role("button", name="挂断").click()
    await expect(page.locator("#status")).to_have_text("监听已结束")
    assert ("hangup", {"channel": spy, "cause": 16}) in pbx.commands
    assert await audit_actions(center.services) == [
        ("supervisor.listen", "boss"),
        ("supervisor.spy_mode", "boss"),
        ("supervisor.spy_stop", "boss"),
    ]
