"""The browser phone end to end: the real Runtime (role all) on the sandbox Asterisk 22,
two agents each in a headless Chromium of its own whose fake microphone plays its own
tone (1001: 440 Hz, 1002: 800 Hz).

Both sign in on the desk with "browser phone" chosen: their pages register <ext>-web
over WebSocket and tell the router (POST /api/agent/phone), then go ready on the page.
A caller who plays a 600 Hz tone (extensions_test.conf [hotline-test-caller-tone])
dials the hotline and presses 5 in the real IVR: business, where 1001 (level 9) comes
before 1002 (level 5). The offer pops and rings in 1001's page, the agent clicks Answer;
MixMonitor on the caller's channel records each direction apart (r: the caller's tone,
t: the agent's) and `sox stat` finds each tone well above silence. 1001 transfers the
caller to 1002 with the page's Transfer button: it pops and rings in 1002's page, 1002
answers and the same recording proves audio both ways with 1002's tone. One call record:
agents 1001 then 1002, one transfer.

Then 1002's page is closed: within 10 s the board shows 1002 not ready, phone_offline.
With 1001 not ready too, a new caller waits and is never offered to 1002; 1001 goes
ready on its page and the new caller rings there.
Screenshots: test-artifacts/softphone-e2e-ringing.png, softphone-e2e-talking.png,
softphone-e2e-transferred.png."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from cti.commands import OriginatePurpose
from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from tests.browser.conftest import artifact
from tests.browser.softphone_support import (
    desk_page,
    fake_mic_chromium,
    on_call,
    packets,
    phone,
    ready_on_page,
    stat,
    tone,
)
from tests.integration.callcontrol.support import ended_record
from tests.integration.hotline.support import (
    AsteriskSide,
    asterisk_side,
    staffed_center,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.browser]
AGENTS = {"1001": {"business": 9}, "1002": {"business": 5}}
MIC_HZ = {"1001": 440, "1002": 800}  # each agent's fake microphone
CALLER_HZ = 600  # what the caller plays
CALLER = "13700000001"
CALLS = metadata.tables["calls"]
RING_MS = 60_000  # from the caller's dial through the IVR to the ringing page
WAIT_MS = 20_000
OFFLINE_SECONDS = 10  # page closed -> not ready (phone_offline)
SECONDS_OF_AUDIO = 3  # recorded each way per agent (8 kHz, 16-bit: 16 kB a second)
# Silence records as RMS 0. The caller's tone measures about 0.35; an agent's about
# 0.07-0.15, Chromium's audio processing (gain control) lowering its fake microphone.
AUDIBLE_RMS = 0.02


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


async def call_with_tone(ast: AsteriskSide, asterisk: AsteriskInstance, played: Path) -> str:
    """A caller who dials the hotline, presses 5 (business) and then plays `played`."""
    uid = f"t{uuid.uuid4().hex[:16]}"
    await ast.pbx.originate(
        f"Local/{ast.settings.center.hotline_numbers[0]}@hotline-inbound",
        purpose=OriginatePurpose.OUTBOUND,
        uniqueid=uid,
        context="hotline-test-caller-tone",
        exten="s",
        caller_id=f'"测试" <{CALLER}>',
        variables={"DTMF": "ww5", "TONE": str(asterisk.asterisk_path(played.with_suffix("")))},
    )
    ast.placed.append(uid)
    return uid


async def caller_channel(ast: AsteriskSide, call: str) -> str:
    """The caller as the PBX sees it: the Local ';2' half that is bridged to the agent."""
    found: list[str] = []

    async def listed() -> bool:
        found[:] = [
            c.channel
            for c in await ast.pbx.channels()
            if c.linkedid == call and c.channel.startswith("Local/") and c.channel.endswith(";2")
        ]
        return len(found) == 1

    await eventually(listed, 10, f"the caller's channel of {call}")
    return found[0]


async def record_both_ways(
    ast: AsteriskSide, asterisk: AsteriskInstance, channel: str, name: str
) -> tuple[Path, Path]:
    """MixMonitor on the caller's channel: r() what the caller sends, t() what it hears."""
    heard, said = asterisk.monitor_dir / f"{name}-r.wav", asterisk.monitor_dir / f"{name}-t.wav"
    for f in (heard, said):
        f.unlink(missing_ok=True)
    await ast.client.send(
        "MixMonitor",
        {
            "Channel": channel,
            "File": str(asterisk.asterisk_path(asterisk.monitor_dir / f"{name}-mix.wav")),
            "Options": f"r({asterisk.asterisk_path(heard)})t({asterisk.asterisk_path(said)})",
        },
    )
    return heard, said


async def media_flows(page: Page, files: tuple[Path, Path], what: str) -> None:
    """A few seconds of audio both ways: the page's RTP counters and both recordings
    grow."""

    async def flowing() -> bool:
        state = await phone(page)
        return (
            packets(state, "inbound") > 50 * SECONDS_OF_AUDIO
            and packets(state, "outbound") > 50 * SECONDS_OF_AUDIO
            and all(f.exists() and f.stat().st_size > 16_000 * SECONDS_OF_AUDIO for f in files)
        )

    await eventually(flowing, 20, f"{SECONDS_OF_AUDIO} s of audio both ways with {what}")
    stats = (await phone(page))["stats"]
    assert stats["inbound"]["energy"] > 0, stats  # the page heard the caller


def tone_of(path: Path, hz: int) -> dict[str, float]:
    measured = stat(path)
    print(f"{path.name}: RMS {measured['RMS amplitude']:.3f}, {measured['Rough frequency']:.0f} Hz")
    assert measured["RMS amplitude"] > AUDIBLE_RMS, (path.name, measured)
    assert abs(measured["Rough frequency"] - hz) < 60, (path.name, measured)
    return measured


async def test_given_two_agents_on_browser_phones_when_a_call_is_answered_and_transferred_then_media_flows_and_a_closed_page_takes_no_calls(
    asterisk: AsteriskInstance, db_url: str, tmp_path: Path
) -> None:
    played = tone(asterisk.sounds_dir / "softphone-e2e-caller.wav", CALLER_HZ, 8000, 30)
    mics = {ext: tone(tmp_path / f"mic-{ext}.wav", hz, 48000, 60) for ext, hz in MIC_HZ.items()}
    errors: list[str] = []
    async with (
        staffed_center(asterisk, db_url, None, AGENTS) as (settings, services, b),
        asterisk_side(asterisk, settings) as ast,
        fake_mic_chromium(mics["1001"]) as chromium1,
        fake_mic_chromium(mics["1002"]) as chromium2,
        desk_page(chromium1, errors) as page1,
        desk_page(chromium2, errors) as page2,
    ):
        routing = services.features.routing
        assert routing is not None
        for page, ext in ((page1, "1001"), (page2, "1002")):
            await ready_on_page(page, b, routing, ext)
        card1, card2 = page1.locator("#softphone"), page2.locator("#softphone")

        # The caller reaches 1001: the pop, then the page rings; the agent answers.
        call = await call_with_tone(ast, asterisk, played)
        await expect(card1).to_have_attribute("data-call", "ringing", timeout=RING_MS)
        await expect(page1.locator("#pop")).to_have_attribute("data-call-id", call)
        await expect(page1.locator("#phone-caller")).to_contain_text(CALLER)
        assert (await phone(page2))["call"] == "idle"
        await page1.screenshot(path=artifact("softphone-e2e-ringing.png"), full_page=True)
        await page1.locator("#phone-answer").click()
        await expect(card1).to_have_attribute("data-call", "answered", timeout=WAIT_MS)
        await on_call(b, "1001", call)
        caller = await caller_channel(ast, call)
        first = await record_both_ways(ast, asterisk, caller, "softphone-e2e-1001")
        await media_flows(page1, first, "1001")
        panel = page1.locator("#callctl")
        await expect(panel).to_have_attribute("data-state", "talking", timeout=WAIT_MS)
        await expect(panel).to_have_attribute("data-call-id", call)
        await page1.screenshot(path=artifact("softphone-e2e-talking.png"), full_page=True)
        await ast.client.send("StopMixMonitor", {"Channel": caller})

        # 1001 transfers the caller to 1002 on the page: it pops and rings in 1002's page.
        await panel.get_by_role("button", name="转接", exact=True).click()
        form = panel.locator("#cc-transfer-form")
        await form.get_by_label("分机号").fill("1002")
        await form.get_by_role("button", name="确定").click()
        await expect(panel).to_be_hidden(timeout=WAIT_MS)
        await expect(card1).to_have_attribute("data-call", "idle", timeout=WAIT_MS)
        await expect(card2).to_have_attribute("data-call", "ringing", timeout=WAIT_MS)
        await expect(page2.locator("#pop")).to_have_attribute("data-call-id", call)
        await page2.locator("#phone-answer").click()
        await expect(card2).to_have_attribute("data-call", "answered", timeout=WAIT_MS)
        await on_call(b, "1002", call)
        assert await caller_channel(ast, call) == caller  # the same caller, moved
        second = await record_both_ways(ast, asterisk, caller, "softphone-e2e-1002")
        await media_flows(page2, second, "1002")
        await expect(page2.locator("#callctl")).to_have_attribute(
            "data-state", "talking", timeout=WAIT_MS
        )
        await page2.screenshot(path=artifact("softphone-e2e-transferred.png"), full_page=True)

        await ast.hang_up(call)
        await expect(card2).to_have_attribute("data-call", "idle", timeout=WAIT_MS)
        row = await ended_record(services, call)
        assert row["agents"] == ["1001", "1002"]
        assert row["transfers"] == 1

        # Each direction carried its own tone, well above silence, with each agent.
        tone_of(first[0], CALLER_HZ)
        tone_of(first[1], MIC_HZ["1001"])
        tone_of(second[0], CALLER_HZ)
        tone_of(second[1], MIC_HZ["1002"])

        # 1002 ends its wrap-up, then its page is closed: not ready, phone_offline.
        await b.post("/api/agent/wrap-up", "agent1002")
        assert (await b.agent("1002"))["state"] == "available"
        closed = time.monotonic()
        await page2.close(run_before_unload=True)

        async def offline() -> bool:
            agent = await b.agent("1002")
            return bool(agent["state"] == "not_ready" and agent["reason"] == "phone_offline")

        await eventually(offline, OFFLINE_SECONDS, "1002 not ready once its page closed")
        offline_after = time.monotonic() - closed
        print(f"1002 not ready (phone_offline) {offline_after:.2f} s after its page closed")
        assert offline_after < OFFLINE_SECONDS

        # With 1001 not ready too, a new caller waits: never offered to 1002.
        await b.post("/api/agent/not-ready", "agent1001", {"reason": "break"})
        await expect(page1.locator("#state-badge")).to_have_attribute(
            "data-state", "not_ready", timeout=WAIT_MS
        )
        again = await call_with_tone(ast, asterisk, played)

        def waiting() -> bool:
            return any(c["call_id"] == again for c in routing.waiting_calls("business"))

        await eventually(waiting, 30, "the new caller waiting in business")
        for _ in range(15):  # 3 s
            agent = routing.router.by_extension["1002"]
            assert agent.state.value == "not_ready", agent
            assert not agent.offerable
            await asyncio.sleep(0.2)
        assert waiting()

        # 1001 goes ready on its page: the new caller rings there.
        await page1.get_by_role("button", name="就绪", exact=True).click()
        await expect(card1).to_have_attribute("data-call", "ringing", timeout=WAIT_MS)
        await expect(page1.locator("#pop")).to_have_attribute("data-call-id", again)
        await ast.hang_up(again)
        await expect(card1).to_have_attribute("data-call", "idle", timeout=WAIT_MS)
        assert (await b.agent("1002"))["state"] == "not_ready"
    assert not errors, f"JavaScript errors on the pages: {errors}"
