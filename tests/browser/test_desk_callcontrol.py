"""The desk's call controls (issue 14) in headless Chromium, on the real Runtime (role all)
and the sandbox Asterisk, whose agents are Local channels that answer by themselves.

Agent 1001 signs in on the page and goes ready; a caller (the test's AMI session) dials
the hotline and presses 5 (business: only 1001 has that skill). The page's call panel
shows the call; the agent holds (the API and the call's timeline say held), resumes with
Alt+H, is told in Chinese why a transfer to an unknown extension is refused, then
transfers to agent 1002 (signed in and ready through the API): 1002 ends on the call and
the page leaves the panel. Click-to-dial from the customer file makes an outbound call
record for that number. A second case: keypad keys, then a three-way conference with 1002
from the page (in English), then Leave: 1002 stays with the caller. A third: Consult 1002
(Complete enabled once 1002 answered), then Complete: 1002 has the call.
Screenshots: test-artifacts/desk-callcontrol-held.png, desk-callcontrol-transfer.png,
desk-callcontrol-conference.png, desk-callcontrol-consult.png."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from playwright.async_api import Locator, Page, expect

from db.models import CustomerPhone, metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_customer
from tests.integration.callcontrol.support import (
    call_state,
    ended_record,
    on_call,
    timeline,
    wait_state,
)
from tests.integration.hotline.support import (
    AsteriskSide,
    Backend,
    asterisk_side,
    staffed_center,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AGENTS = {"1001": {"business": 8}, "1002": {"complaint": 8}}
CALLER = "13700000001"  # the customer's first phone: the number they call from
OTHER_PHONE = "13900000009"  # their second phone: the one the agent dials
CALLS = metadata.tables["calls"]
EVENTS = metadata.tables["call_events"]
WAIT_MS = 20_000  # a control's effect on the page (the page asks every second)


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@contextlib.asynccontextmanager
async def center(
    asterisk: AsteriskInstance, db_url: str
) -> AsyncIterator[tuple[Services, Backend, AsteriskSide, int]]:
    """The backend with agents 1001 and 1002 and a customer with two phones."""
    async with staffed_center(asterisk, db_url, None, AGENTS) as (settings, services, b):
        customer = await add_customer(services, "王芳", CALLER, tier="B")
        assert customer.id is not None
        async with services.sessions() as s:
            s.add(CustomerPhone(customer_id=customer.id, number=OTHER_PHONE))
            await s.commit()
        async with asterisk_side(asterisk, settings) as ast:
            yield services, b, ast, customer.id


async def ready_on_page(page: Page, b: Backend) -> None:
    base = str(b.http.base_url).rstrip("/")
    await page.goto(f"{base}/desk/")
    await page.get_by_label("用户名").fill("agent1001")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "on")
    await page.get_by_role("button", name="签入话机").click()
    await expect(page.locator("#state-badge")).to_have_text("示忙")
    await page.get_by_role("button", name="就绪", exact=True).click()
    await expect(page.locator("#state-badge")).to_have_text("就绪")


async def answered_on_page(page: Page, ast: AsteriskSide, b: Backend) -> tuple[str, Locator]:
    call = await ast.call(CALLER, "ww5")  # business: agent 1001
    panel = page.locator("#callctl")
    await expect(panel).to_have_attribute("data-state", "talking", timeout=60_000)
    await expect(panel).to_have_attribute("data-call-id", call)
    await on_call(b, "1001", call)
    return call, panel


async def test_given_a_call_on_the_desk_when_held_resumed_and_transferred_then_1002_has_it_and_dial_works(
    asterisk: AsteriskInstance, db_url: str, page: Page
) -> None:
    async with center(asterisk, db_url) as (services, b, ast, customer_id):
        await b.post("/api/agent/sign-in", "agent1002", {"ready": True})
        await ready_on_page(page, b)
        panel = page.locator("#callctl")
        await expect(panel).to_be_hidden()

        call, panel = await answered_on_page(page, ast, b)
        await expect(panel.locator("#cc-state")).to_have_text("通话中")
        await expect(panel.locator("#cc-peer")).to_contain_text("137****0001")  # masked
        for enabled in ("hold", "transfer", "consult", "conference", "keypad", "hangup"):
            await expect(panel.locator(f"#cc-{enabled}")).to_be_enabled()
        for disabled in ("resume", "complete", "cancel", "leave"):
            await expect(panel.locator(f"#cc-{disabled}")).to_be_disabled()

        # Hold: the API and the call's timeline say held, the page shows it.
        await panel.get_by_role("button", name="保持通话", exact=True).click()
        await expect(panel).to_have_attribute("data-state", "held", timeout=WAIT_MS)
        await expect(panel.locator("#cc-state")).to_have_text("通话保持中")
        await expect(panel.locator("#cc-hold")).to_be_disabled()
        await expect(panel.locator("#cc-keypad")).to_be_disabled()
        assert (await call_state(b, "agent1001"))["state"] == "held"

        async def held_on_record() -> bool:
            return "call.held" in await timeline(services, call)

        await eventually(held_on_record, 20, "call.held on the call's timeline")
        await page.screenshot(path=artifact("desk-callcontrol-held.png"), full_page=True)

        # Resume from the keyboard.
        await page.keyboard.press("Alt+h")
        await expect(panel).to_have_attribute("data-state", "talking", timeout=WAIT_MS)
        assert (await call_state(b, "agent1001"))["state"] == "talking"

        # A transfer the API refuses: the agent reads why, in Chinese.
        await panel.get_by_role("button", name="转接", exact=True).click()
        form = panel.locator("#cc-transfer-form")
        await expect(form).to_be_visible()
        await expect(form.get_by_label("分机号")).to_be_focused()
        await form.get_by_label("分机号").fill("1009")
        await form.get_by_role("button", name="确定").click()
        error = panel.locator("#cc-error")
        await expect(error).to_have_attribute("data-code", "invalid_target")
        await expect(error).to_have_text("转接目标无效，请检查分机号、队列或号码")
        assert (await call_state(b, "agent1001"))["state"] == "talking"

        # Transfer to agent 1002: 1002 ends on the call, this page leaves the panel.
        await form.get_by_label("分机号").fill("1002")
        await form.get_by_role("button", name="确定").click()
        await expect(panel).to_be_hidden(timeout=WAIT_MS)
        await expect(page.locator("#call-state")).to_have_text("已转出")
        await on_call(b, "1002", call)
        await wait_state(b, "agent1002", "talking")  # channels land after the Redirect
        await wait_state(b, "agent1001", "idle")
        await page.screenshot(path=artifact("desk-callcontrol-transfer.png"), full_page=True)
        await expect(panel).to_be_hidden()  # still: the page's own polling agrees
        await ast.hang_up(call)
        row = await ended_record(services, call)
        assert row["agents"] == ["1001", "1002"]
        assert row["transfers"] == 1

        # Click-to-dial from the customer file the pop shows: the second phone, shown
        # masked to the agent (privacy); the server dials it by the file's phone index.
        await expect(page.locator("#pop-details")).not_to_contain_text(OTHER_PHONE)
        masked = f"{OTHER_PHONE[:3]}****{OTHER_PHONE[-4:]}"
        dial = page.locator("#pop-details").get_by_role("button", name=f"呼叫 {masked}")
        await expect(dial).to_be_visible()
        await dial.click()
        await expect(panel).to_have_attribute("data-state", "talking", timeout=30_000)
        outbound = await panel.get_attribute("data-call-id") or ""
        assert (await call_state(b, "agent1001"))["state"] == "talking"
        await panel.get_by_role("button", name="结束通话").click()
        await expect(panel).to_be_hidden(timeout=WAIT_MS)

        async def outbound_ended() -> bool:
            async with services.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(CALLS).where(
                            CALLS.c.direction == "out", CALLS.c.caller_number == OTHER_PHONE
                        )
                    )
                ).all()
            return len(rows) == 1 and rows[0]._mapping["ended_at"] is not None

        await eventually(outbound_ended, 30, f"one ended outbound record for {OTHER_PHONE}")
        async with services.engine.connect() as conn:
            out = (
                (await conn.execute(sa.select(CALLS).where(CALLS.c.caller_number == OTHER_PHONE)))
                .one()
                ._mapping
            )
        assert out["agents"] == ["1001"]
        assert out["customer_id"] == customer_id
        assert out["disposition"] == "answered"
        assert out["linkedid"] == outbound


async def test_given_a_call_on_the_desk_when_1002_joins_a_conference_and_1001_leaves_then_1002_stays(
    asterisk: AsteriskInstance, db_url: str, page: Page
) -> None:
    async with center(asterisk, db_url) as (services, b, ast, _customer_id):
        await b.post("/api/agent/sign-in", "agent1002", {"ready": True})
        await ready_on_page(page, b)
        call, panel = await answered_on_page(page, ast, b)
        await page.get_by_role("button", name="English").click()
        await expect(panel.locator("#cc-state")).to_have_text("Talking")

        # Keys to the far end from the keypad, by click and by keyboard.
        await panel.get_by_role("button", name="Keypad").click()
        pad = panel.locator("#cc-pad")
        await pad.get_by_role("button", name="1", exact=True).click()
        await page.keyboard.press("#")
        await expect(pad.locator("#cc-pad-sent")).to_have_text("Sent: 1#")
        await page.keyboard.press("Escape")
        await expect(pad).to_be_hidden()
        await expect(panel.locator("#cc-keypad")).to_be_focused()

        # The transfer form lists the queues.
        await panel.get_by_role("button", name="Transfer", exact=True).click()
        await panel.get_by_label("Transfer to").select_option("queue")
        await expect(panel.locator("#cc-xfer-queue option")).to_contain_text(["Complaints"])
        await page.keyboard.press("Escape")
        await expect(panel.locator("#cc-transfer-form")).to_be_hidden()

        await panel.get_by_role("button", name="Conference", exact=True).click()
        form = panel.locator("#cc-target-form")
        await expect(form.get_by_label("Invite extension")).to_be_focused()
        await page.keyboard.type("1002")
        await page.keyboard.press("Enter")
        await expect(panel).to_have_attribute("data-state", "conference", timeout=WAIT_MS)
        await expect(panel.locator("#cc-peer")).to_contain_text("conference: 1002", timeout=WAIT_MS)
        await expect(panel.locator("#cc-leave")).to_be_enabled()
        await expect(panel.locator("#cc-hold")).to_be_disabled()
        await page.get_by_role("button", name="中文").click()
        await expect(panel.locator("#cc-state")).to_have_text("三方通话中")
        await page.screenshot(path=artifact("desk-callcontrol-conference.png"), full_page=True)

        await panel.get_by_role("button", name="退出三方").click()
        await expect(panel).to_be_hidden(timeout=WAIT_MS)
        await wait_state(b, "agent1002", "conference")  # channels land after the Redirect
        await wait_state(b, "agent1001", "idle")
        await ast.hang_up(call)
        row = await ended_record(services, call)
        assert row["agents"] == ["1001", "1002"]
        assert "call.conference" in await timeline(services, call)


async def test_given_a_call_on_the_desk_when_consulting_1002_and_completing_then_1002_has_it(
    asterisk: AsteriskInstance, db_url: str, page: Page
) -> None:
    async with center(asterisk, db_url) as (services, b, ast, _customer_id):
        await b.post("/api/agent/sign-in", "agent1002", {"ready": True})
        await ready_on_page(page, b)
        call, panel = await answered_on_page(page, ast, b)
        await expect(panel.locator("#cc-complete")).to_be_disabled()

        await panel.get_by_role("button", name="咨询", exact=True).click()
        form = panel.locator("#cc-target-form")
        await form.get_by_label("咨询分机").fill("1002")
        await form.get_by_role("button", name="确定").click()
        await expect(panel).to_have_attribute("data-state", "consulting", timeout=WAIT_MS)
        # Complete only once 1002 has answered; Cancel at once.
        await expect(panel.locator("#cc-peer")).to_contain_text("咨询 1002", timeout=WAIT_MS)
        await expect(panel.locator("#cc-cancel")).to_be_enabled()
        await expect(panel.locator("#cc-complete")).to_be_enabled()
        await expect(panel.locator("#cc-hold")).to_be_disabled()
        await page.screenshot(path=artifact("desk-callcontrol-consult.png"), full_page=True)

        await panel.get_by_role("button", name="完成转接").click()
        await expect(panel).to_be_hidden(timeout=WAIT_MS)
        await on_call(b, "1002", call)
        await wait_state(b, "agent1002", "talking")  # channels land after the Redirect
        await wait_state(b, "agent1001", "idle")
        await ast.hang_up(call)
        row = await ended_record(services, call)
        assert row["agents"] == ["1001", "1002"]
        assert row["transfers"] == 1
        assert "call.consulting" in await timeline(services, call)
