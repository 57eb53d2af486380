"""The desk's recording buttons in headless Chromium, on the real Runtime (role all) and
the sandbox Asterisk with `recording.mode: on_demand`: when the agent's call is answered
the page offers Record; the agent records, pauses, resumes and stops, each button
enabled only when it applies, in Chinese and in English; the call's record lists the
steps with the agent's name. Screenshot: test-artifacts/desk-recording.png."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from devtools.services.asterisk import AsteriskInstance
from hotline.runtime import Runtime
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD
from tests.integration.hotline.support import add_staff, asterisk_side, restart_settings

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


async def test_given_on_demand_recording_when_the_agent_uses_the_buttons_then_the_call_is_recorded(
    asterisk: AsteriskInstance, db_url: str, page: Page, browser: Browser
) -> None:
    settings = restart_settings(asterisk, db_url, HOTLINE_RECORDING__MODE="on_demand")
    runtime = Runtime(settings)
    services = await runtime.start()
    try:
        staff = await add_staff(services, {"1001": {"business": 8}})
        assert services.features.routing is not None
        await services.features.routing.reload_agents()
        base = f"http://{settings.http.host}:{settings.http.port}"
        async with asterisk_side(asterisk, settings) as ast:
            await page.goto(f"{base}/desk/")
            await page.get_by_label("用户名").fill("agent1001")
            await page.get_by_label("密码").fill(PASSWORD)
            await page.get_by_role("button", name="登录").click()
            await expect(page.locator("#link")).to_have_attribute("data-state", "on")
            await page.get_by_role("button", name="签入话机").click()
            await page.get_by_role("button", name="就绪", exact=True).click()
            await expect(page.locator("#state-badge")).to_have_text("就绪")

            call = await ast.call("13700000001", "ww5")
            await expect(page.locator("#call-state")).to_have_text("通话中", timeout=60_000)
            rec = page.locator("#rec-state")
            await expect(rec).to_have_text("未录音")
            await expect(page.locator("#rec-pause")).to_be_disabled()

            await page.get_by_role("button", name="开始录音").click()
            await expect(rec).to_have_text("录音中")
            await expect(page.locator("#rec-start")).to_be_disabled()
            await page.get_by_role("button", name="暂停录音").click()
            await expect(rec).to_have_text("录音已暂停")
            await page.get_by_role("button", name="English").click()
            await expect(rec).to_have_text("Paused")
            await page.get_by_role("button", name="Resume").click()
            await expect(rec).to_have_text("Recording")
            await page.screenshot(path=artifact("desk-recording.png"), full_page=True)
            await page.get_by_role("button", name="Stop", exact=True).click()
            await expect(rec).to_have_text("Stopped")
            await expect(page.locator("#rec-error")).to_have_text("")

            detail = await page.evaluate(
                """async (call) => {
                    const token = JSON.parse(
                        sessionStorage.getItem('hotline.session')).access_token;
                    const r = await fetch(`/api/calls/${call}`,
                        {headers: {Authorization: `Bearer ${token}`}});
                    return await r.json();
                }""",
                call,
            )
            (recording,) = detail["recordings"]
            assert [s["action"] for s in recording["steps"]] == ["start", "pause", "resume", "stop"]
            assert {s["by"] for s in recording["steps"]} == {"agent1001"}

            # The supervisor records the same call again from the board.
            context = await browser.new_context(locale="zh-CN")
            try:
                board = await context.new_page()
                await board.goto(f"{base}/supervisor")
                await board.get_by_label("用户名").fill("supervisor")
                await board.get_by_label("密码").fill(PASSWORD)
                await board.get_by_role("button", name="登录").click()
                row = board.locator(f'#agents tr[data-agent-id="{staff["1001"]}"]')
                await expect(row.locator(".badge")).to_have_text("通话中")
                await row.get_by_role("button", name="录音", exact=True).click()
                await expect(board.locator("#status")).to_contain_text("开始录音")
            finally:
                await context.close()
            await ast.hang_up(call)
    finally:
        await runtime.stop()
