"""The quality-inspection page in headless Chromium against a real uvicorn, in Chinese and
in English: a QA inspector draws the week's samples, opens the queued call, plays its
recording (a real WAV on disk, through /api/recordings/{id}/audio), scores it with the
form of config.yaml and a comment; the agent signs in and sees the score, the comment and
their evaluation. Screenshots: test-artifacts/qa-inspector-<lang>.png, qa-agent-<lang>.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_user, api_server, api_services
from tests.integration.qa.support import recorded_call

pytestmark = pytest.mark.browser

WORDS = {
    "zh": {
        "username": "用户名", "password": "密码", "signin": "登录", "draw": "抽取本周样本",
        "score": "评分", "criterion": "答复信息准确", "fatal": "对客户态度恶劣",
        "submit": "提交评分", "scored": "已提交：总分 90", "logout": "退出登录",
        "comment": "电价政策答复有误，其余规范。", "details": "答复信息准确 3/5",
        "survey": "暂无数据", "mine": "我的质检评分", "not_allowed": "此页面需要",
    },
    "en": {
        "username": "Username", "password": "Password", "signin": "Sign in",
        "draw": "Draw this week's samples", "score": "Score", "criterion": "Correct information",
        "fatal": "Rude to the customer", "submit": "Submit score", "scored": "Submitted: total 90",
        "logout": "Sign out", "comment": "Tariff answer was wrong; otherwise by the book.",
        "details": "Correct information 3/5", "survey": "No data yet", "mine": "My quality scores",
        "not_allowed": "This page needs",
    },
}  # fmt: skip


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    base: str
    call_id: int


@pytest.fixture
async def center(db_url: str, tmp_path: Path) -> AsyncIterator[Center]:
    env = {"HOTLINE_RECORDING__ROOT": str(tmp_path / "recordings")}
    async with api_services(db_url, env=env) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001", display_name="王芳")
        await add_user(services, "qa01", Role.QA, display_name="李质检")
        call, _ = await recorded_call(services, "1700000300.1", agent.id or 0, audio=None)
        async with api_server(create_app(services)) as base:
            yield Center(services, base, call.id or 0)


async def sign_in(page: Page, words: dict[str, str], username: str) -> None:
    await page.get_by_label(words["username"]).fill(username)
    await page.get_by_label(words["password"]).fill(PASSWORD)
    await page.get_by_role("button", name=words["signin"], exact=True).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_given_a_recorded_call_when_an_inspector_scores_it_then_the_agent_sees_it(
    page: Page, center: Center, lang: str
) -> None:
    words = WORDS[lang]
    await page.goto(f"{center.base}/qa/")
    if lang == "en":
        await page.get_by_role("button", name="English").click()
    await sign_in(page, words, "qa01")

    await page.get_by_role("button", name=words["draw"]).click()
    row = page.locator(f'#queue tr[data-call-id="{center.call_id}"]')
    await expect(row).to_contain_text("王芳")
    await row.get_by_role("button", name=words["score"]).click()
    player = page.locator("#player")
    await expect(player).to_have_attribute("data-loaded", "yes")
    duration = await page.evaluate(
        """() => new Promise((resolve) => {
            const a = document.getElementById('player');
            if (a.readyState >= 1) resolve(a.duration);
            else a.addEventListener('loadedmetadata', () => resolve(a.duration), {once: true});
        })"""
    )
    assert duration == pytest.approx(0.5, abs=0.05)  # the WAV on disk, decoded by Chromium

    await expect(page.locator("#total")).to_have_text("100")
    await page.get_by_label(words["criterion"]).select_option("3")
    await expect(page.locator("#total")).to_have_text("90")
    fatal = page.get_by_label(words["fatal"])
    await fatal.check()
    await expect(page.locator("#total")).to_have_text("0")
    await fatal.uncheck()
    await page.locator("#comment").fill(words["comment"])
    await page.get_by_role("button", name=words["submit"]).click()
    await expect(page.locator("#status")).to_have_text(words["scored"])
    await expect(page.locator("#call-scores")).to_contain_text(words["comment"])
    await expect(row).to_have_count(0)  # scored: out of the pending queue
    await page.screenshot(path=artifact(f"qa-inspector-{lang}.png"), full_page=True)

    await page.get_by_role("button", name=words["logout"]).click()
    await sign_in(page, words, "agent01")
    await expect(page.get_by_role("heading", name=words["mine"])).to_be_visible()
    mine = page.locator("#my-scores tr")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text(words["comment"])
    await expect(mine).to_contain_text("90")
    await expect(mine).to_contain_text(words["details"])
    await expect(mine).to_contain_text("李质检")
    await expect(page.locator('#my-eval [data-angle="qa"] .value')).to_have_text("90")
    await expect(page.locator('#my-eval [data-angle="survey"]')).to_contain_text(words["survey"])
    await expect(page.locator("#inspect")).to_be_hidden()
    await page.screenshot(path=artifact(f"qa-agent-{lang}.png"), full_page=True)


async def test_given_a_supervisor_when_rating_an_agent_by_keyboard_then_the_evaluation_has_it(
    page: Page, center: Center
) -> None:
    await add_user(center.services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
    await page.goto(f"{center.base}/qa/")
    await sign_in(page, WORDS["zh"], "boss")
    pick = page.get_by_label("座席", exact=True)
    await pick.select_option(label="王芳 · 1001")
    await expect(page.locator('#agent-eval [data-angle="supervisor"]')).to_contain_text("暂无数据")
    await pick.focus()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("期间（月或周）")).to_be_focused()
    await page.keyboard.type("2026-12")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.type("投诉处理及时，业务熟练。")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="保存主管评价")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#status")).to_have_text("已保存主管评价")
    # 3 of 1-5 is 50 of 100; the only angle with data, so the overall too.
    await expect(page.locator('#agent-eval [data-angle="supervisor"] .value')).to_have_text("50")
    await expect(page.locator('#agent-eval [data-angle="overall"] .value')).to_have_text("50")
    await expect(page.locator("#agent-eval")).to_contain_text("投诉处理及时，业务熟练。")
    await page.get_by_role("button", name="English").click()
    await expect(page.locator('#agent-eval [data-angle="supervisor"]')).to_contain_text(
        "Supervisor ratings"
    )
    await expect(page.locator("#status")).to_have_text("Supervisor rating saved")
    await page.screenshot(path=artifact("qa-supervisor-en.png"), full_page=True)
