"""A callback to an agent on the browser phone rings the page, not the desk phone.

The real Runtime (role all) on the sandbox Asterisk 22; agent 1001 signs in on the desk
with "browser phone" chosen and stays not ready. A caller dials the hotline, presses 5
(business), waits in line and presses 1: call me back, keeping the place in line, and
hangs up. 1001 goes ready on the page: the router reserves 1001, the pop shows the
callback, the customer is dialled first ([hotline-callback]) and, once they answer,
[hotline-connect] dials the agent: the phone 1001 chose (PJSIP/1001-web), which rings
in the page. Before the fix the callback rang pbx.dialplan.agent_endpoint (here the
sandbox's simulated desk phone of 1001, which answers by itself) while the page stayed
silent. The agent answers on the page; the callback ends completed with 1001.
Screenshot: test-artifacts/softphone-callback-ringing.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from db.models import CallbackRequest
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from tests.browser.conftest import artifact
from tests.browser.softphone_support import (
    desk_page,
    fake_mic_chromium,
    on_call,
    ready_on_page,
    tone,
)
from tests.integration.hotline.support import AsteriskSide, asterisk_side, staffed_center
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AGENTS = {"1001": {"business": 9}}
CUSTOMER = "13700000031"
WAIT_MS = 30_000
CALLBACKS = CallbackRequest.__table__  # type: ignore[attr-defined]


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


async def callback_row(services: Services) -> dict[str, Any] | None:
    async with services.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(CALLBACKS).where(CALLBACKS.c.number == CUSTOMER))
        ).first()
    return dict(row._mapping) if row is not None else None


async def press(ast: AsteriskSide, linkedid: str, digit: str) -> None:
    """A key on the caller's phone: PlayDTMF on the test caller's own half (;1) of the
    Local channel reaches the PBX half as the caller's key."""
    legs: list[str] = []

    async def found() -> bool:
        legs[:] = [
            c.channel
            for c in await ast.pbx.channels()
            if c.linkedid == linkedid and c.channel.endswith(";1")
        ]
        return len(legs) == 1

    await eventually(found, 10, f"the caller's phone of {linkedid}")
    await ast.client.send("PlayDTMF", {"Channel": legs[0], "Digit": digit, "Duration": 200})


async def test_given_an_agent_on_the_browser_phone_when_a_callback_is_due_then_the_page_rings(
    asterisk: AsteriskInstance, db_url: str, tmp_path: Path
) -> None:
    mic = tone(tmp_path / "mic.wav", 440, 48000, 30)
    errors: list[str] = []
    async with (
        staffed_center(asterisk, db_url, None, AGENTS) as (settings, services, b),
        asterisk_side(asterisk, settings) as ast,
        fake_mic_chromium(mic) as chromium,
        desk_page(chromium, errors) as page,
    ):
        routing = services.features.routing
        assert routing is not None
        await ready_on_page(page, b, routing, "1001", ready=False)

        # The caller waits in business (nobody ready), presses 1 and hangs up.
        caller = await ast.call(CUSTOMER, "ww5")

        def waiting(kind: str) -> bool:
            return [c["kind"] for c in routing.waiting_calls("business")] == [kind]

        await eventually(lambda: waiting("live"), 30, "the caller waiting in business")
        await press(ast, caller, "1")
        await eventually(lambda: waiting("callback"), 30, "the callback keeps the place")
        await ast.hang_up(caller)

        # 1001 goes ready on the page: the customer is dialled, then the page rings.
        await page.get_by_role("button", name="就绪", exact=True).click()
        card = page.locator("#softphone")
        await expect(card).to_have_attribute("data-call", "ringing", timeout=WAIT_MS)
        linkedid = await page.locator("#pop").get_attribute("data-call-id")
        assert linkedid is not None
        assert linkedid.startswith("hlcb-"), linkedid
        await page.screenshot(path=artifact("softphone-callback-ringing.png"), full_page=True)
        await page.locator("#phone-answer").click()
        await expect(card).to_have_attribute("data-call", "answered", timeout=WAIT_MS)
        await on_call(b, "1001", linkedid)

        await ast.hang_up(linkedid)
        await expect(card).to_have_attribute("data-call", "idle", timeout=WAIT_MS)

        async def completed() -> bool:
            row = await callback_row(services)
            return row is not None and row["state"] == "completed"

        await eventually(completed, 30, "the callback completed")
        row = await callback_row(services)
        assert row is not None
        assert (row["outcome"], row["attempts"], row["agent_id"]) == (
            "answered",
            1,
            routing.router.by_extension["1001"].agent_id,
        )
    assert not errors, f"JavaScript errors on the page: {errors}"
