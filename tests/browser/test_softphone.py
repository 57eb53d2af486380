"""The desk's browser softphone on the sandbox Asterisk 22 (WebRTC over SIP on WebSocket)
in headless Chromium with a fake microphone playing a 440 Hz tone.

The agent picks "browser phone" on the sign-in form and signs in; the page registers
extension 1001 over ws:// (Asterisk lists the contact); a call originated to PJSIP/1001
that plays a 600 Hz tone rings in the page, the agent answers; MixMonitor records each
direction apart (r: what Asterisk received from the browser, t: what it sent), and
`sox stat` finds each tone in its own file: media flowed both ways through DTLS-SRTP.
The page's own RTP counters say it received audio too. Hold and resume work, a keypad
key reaches Asterisk as RFC 4733 DTMF, and the agent hangs up on the page.
Screenshots: test-artifacts/softphone-ringing.png, softphone-call.png."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.ami.client import AmiClient
from db.models import Role, User
from devtools.services.asterisk import AsteriskInstance, ami_session
from hotline.http import create_app
from hotline.services import Features, Services
from kernel.clock import SystemClock
from tests.browser.conftest import artifact
from tests.browser.softphone_support import fake_mic_chromium, phone, stat, tone
from tests.harness.cti import CtiStack
from tests.harness.http_app import PASSWORD, api_server
from tests.support import bounded_teardown, eventually

pytestmark = [pytest.mark.integration, pytest.mark.browser]
EXTENSION = "1001"
ENDPOINT = "1001-web"  # the browser phone's own endpoint (pjsip.conf)
MIC_HZ = 440  # the browser's fake microphone
PBX_HZ = 600  # what Asterisk plays to the browser


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    """Chromium with a fake microphone that plays a known tone and no permission prompt."""
    async with fake_mic_chromium(tone(tmp_path / "mic.wav", MIC_HZ, 48000, 60)) as chromium:
        yield chromium


async def seed_agent(stack: CtiStack) -> None:
    from argon2 import PasswordHasher

    async with stack.sessions() as s:
        s.add(
            User(
                username="agent01",
                display_name="李娜",
                role=Role.AGENT,
                extension=EXTENSION,
                languages=["zh"],
                password_hash=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(
                    PASSWORD
                ),
            )
        )
        await s.commit()


async def cli(asterisk: AsteriskInstance, command: str) -> str:
    return await asyncio.to_thread(asterisk.cli, command)


async def agent_channels(asterisk: AsteriskInstance) -> list[str]:
    out = await cli(asterisk, "core show channels concise")
    return [
        line.split("!")[0] for line in out.splitlines() if line.startswith(f"PJSIP/{ENDPOINT}-")
    ]


@contextlib.asynccontextmanager
async def dtmf_events(asterisk: AsteriskInstance) -> AsyncIterator[list[tuple[str, str]]]:
    """(channel, digit) of each DTMFEnd Asterisk receives, through the sandbox's
    listen-only account (deploy/asterisk/manager.conf hotline-trace: the product's user
    does not read DTMF events)."""
    digits: list[tuple[str, str]] = []

    def on_event(frame: dict[str, str]) -> None:
        if frame.get("Event") == "DTMFEnd" and frame.get("Direction") == "Received":
            digits.append((frame.get("Channel", ""), frame.get("Digit", "")))

    client = AmiClient(
        host=asterisk.ami_host,
        port=asterisk.ami_port,
        username="hotline-trace",
        secret=asterisk.ami_secret,
        on_event=on_event,
        wanted_events={"DTMFEnd"},
    )
    client.start()
    try:
        await client.wait_ready(10)
        yield digits
    finally:
        await bounded_teardown(("trace AMI session", client.close))


async def test_given_the_browser_phone_when_a_call_comes_then_it_rings_is_answered_and_media_flows_both_ways(
    cti_stack: CtiStack, asterisk: AsteriskInstance, page: Page
) -> None:
    stack = cti_stack
    await seed_agent(stack)
    settings = stack.settings
    assert settings.pbx.webrtc.ws_url == asterisk.ws_url
    services = Services(
        settings=settings.model_copy(
            update={"auth": settings.auth.model_copy(update={"dev_mode": True})}
        ),
        bus=stack.bus,
        engine=stack.engine,
        sessions=stack.sessions,
        pbx=stack.bridge.commands,
        clock=SystemClock(),
        features=Features(bridges=[stack.bridge]),
    )
    played = tone(asterisk.sounds_dir / "softphone-tone.wav", PBX_HZ, 8000, 60)
    monitor = asterisk.monitor_dir
    recorded_in, recorded_out = monitor / "softphone-in.wav", monitor / "softphone-out.wav"
    for f in (recorded_in, recorded_out):
        f.unlink(missing_ok=True)

    async with api_server(create_app(services)) as base:
        # The agent chooses the browser phone on the sign-in form and signs in.
        await page.goto(f"{base}/desk/")
        await page.get_by_label("浏览器话机").check()
        await page.get_by_label("用户名").fill("agent01")
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        card = page.locator("#softphone")
        await expect(card).to_have_attribute("data-state", "registered", timeout=20_000)
        await expect(page.locator("#phone-state")).to_have_text("已注册")
        assert await page.evaluate("window.hotlinePhone.state") == "registered"
        assert await page.evaluate("localStorage.getItem('hotline.phone.mode')") == "browser"

        # Asterisk has the browser's contact for endpoint 1001, over the WebSocket.
        async def contact_listed() -> bool:
            return f"{ENDPOINT}/sip:" in await cli(asterisk, "pjsip show contacts")

        await eventually(contact_listed, 10, "Asterisk to list the browser's contact")
        contacts = await cli(asterisk, "pjsip show contacts")
        assert "Avail" in contacts, contacts  # and qualified
        # The contact came over the WebSocket (the list cuts the URI: ask the registrar).
        registrar = await cli(asterisk, "database show registrar")
        assert "transport=ws" in registrar.lower(), registrar

        # A call to PJSIP/1001 rings in the page.
        async with ami_session(asterisk) as ami:
            await ami.send(
                "Originate",
                {
                    "Channel": f"PJSIP/{ENDPOINT}",
                    "Application": "Playback",
                    "Data": str(asterisk.asterisk_path(played.with_suffix(""))),
                    "CallerID": '"张伟" <13912345678>',
                    "Timeout": "30000",
                    "Async": "true",
                },
            )
            await expect(card).to_have_attribute("data-call", "ringing", timeout=15_000)
            await expect(page.locator("#phone-caller")).to_contain_text("13912345678")
            await page.screenshot(path=artifact("softphone-ringing.png"), full_page=True)

            # The agent answers on the page; the call is up on both sides.
            await page.locator("#phone-answer").click()
            await expect(card).to_have_attribute("data-call", "answered", timeout=15_000)
            await expect(page.locator("#phone-incoming")).to_be_hidden()
            await expect(page.locator("#phone-controls")).to_be_visible()

            async def one_channel() -> bool:
                return len(await agent_channels(asterisk)) == 1

            await eventually(one_channel, 10, "the agent's channel in Asterisk")
            channel = (await agent_channels(asterisk))[0]
            await ami.send(
                "MixMonitor",
                {
                    "Channel": channel,
                    "File": str(asterisk.asterisk_path(monitor / "softphone-mix.wav")),
                    "Options": (
                        f"r({asterisk.asterisk_path(recorded_in)})"
                        f"t({asterisk.asterisk_path(recorded_out)})"
                    ),
                },
            )

            # Audio both ways for a few seconds: the browser's RTP counters and the
            # recordings grow (8 kHz, 16-bit: 16 kB a second).
            async def flowing() -> bool:
                stats = (await phone(page))["stats"] or {}
                inbound, outbound = stats.get("inbound") or {}, stats.get("outbound") or {}
                return (
                    inbound.get("packets", 0) > 150
                    and outbound.get("packets", 0) > 150
                    and all(
                        f.exists() and f.stat().st_size > 48_000
                        for f in (recorded_in, recorded_out)
                    )
                )

            await eventually(flowing, 20, "3 s of audio both ways")
            stats = (await phone(page))["stats"]
            assert stats["inbound"]["energy"] > 0, stats  # the page heard Asterisk's tone
            await page.screenshot(path=artifact("softphone-call.png"), full_page=True)

            # Hold and resume (re-INVITEs from the page), then a key on the keypad reaches
            # Asterisk as RFC 4733 DTMF.
            await page.locator("#phone-hold").click()
            await expect(card).to_have_attribute("data-call", "held", timeout=10_000)
            await expect(page.locator("#phone-hold")).to_have_text("取回")
            await page.locator("#phone-hold").click()
            await expect(card).to_have_attribute("data-call", "answered", timeout=10_000)
            async with dtmf_events(asterisk) as digits:
                await page.locator("#phone-pad [data-key='5']").click()
                await eventually(
                    lambda: (channel, "5") in digits, 10, "Asterisk to receive the digit 5"
                )

            # The agent hangs up on the page; Asterisk's channel goes.
            await page.locator("#phone-hangup").click()
            await expect(card).to_have_attribute("data-call", "idle", timeout=10_000)

            async def gone() -> bool:
                return not await agent_channels(asterisk)

            await eventually(gone, 10, "the agent's channel to hang up")

    # Each direction carries its own tone, well above silence.
    heard, sent = stat(recorded_in), stat(recorded_out)
    assert heard["RMS amplitude"] > 0.05, heard
    assert sent["RMS amplitude"] > 0.05, sent
    assert abs(heard["Rough frequency"] - MIC_HZ) < 60, heard
    assert abs(sent["Rough frequency"] - PBX_HZ) < 60, sent
