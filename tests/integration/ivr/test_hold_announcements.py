"""Callers waiting in a holding queue hear Hotline's rendered announcements in their own
language on the real Asterisk 22: the estimated wait (extensions.conf [hotline-queue]),
their position and "thank you for waiting" (app_queue, queues.conf queue-* sounds).

The real IVR (FastAGI) sets CHANNEL(language): 张伟 (zh) presses 6 for complaints; then an
unknown caller presses 9, 2 (English), 6 and waits behind him. What a caller heard is
what Asterisk opened: the test watches the instance's sounds folder with inotify
(tests/integration/file_opens.py), one caller at a time, and reads Asterisk's verbose log
for the numbers ("<channel> Playing 'digits/2...' (language 'zh')").
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.commands import ChannelNotFound
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from ivr.fastagi import IvrFastAgiServer
from ivr.prompt_render import TtsTools
from ivr.prompts import HOLD_PROMPTS, prompt_files, render_files, say_files
from kernel.bus import Subscription
from kernel.clock import FakeClock
from tests.harness.cti import CtiStack
from tests.integration.file_opens import FileOpens
from tests.integration.ivr.support import seed_ivr_customers
from tests.integration.ivr.test_ivr_fastagi import MONDAY_MORNING
from tests.ivr_scenarios import UNKNOWN_PHONE, ZHANG_PHONE
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]

QUEUE = "complaint"
EWT_MINUTES = 2
# First in line: the estimate, "you are next", thanks. Second: the estimate, "you are
# caller number" <2> "in line", thanks.
HEARD_FIRST = {"hold_estimate", "hold_minutes", "hold_next", "hold_thanks"}
HEARD_SECOND = {
    "hold_estimate",
    "hold_minutes",
    "hold_position",
    "hold_position_end",
    "hold_thanks",
}


@pytest.fixture
async def hold_prompts(cti_stack: CtiStack, asterisk: AsteriskInstance) -> AsyncIterator[Path]:
    """The hold prompts rendered into the instance's sounds folder (what `hotline prompts
    render` does), removed afterwards: other tests keep their silent holding queues."""
    settings = cti_stack.settings
    prompts = [f for f in prompt_files(settings) if f.name in HOLD_PROMPTS]
    # Asterisk's Chinese number words go to its (shared) root, as the command does.
    words = {f"digits/{EWT_MINUTES}"}
    root_sounds = asterisk.host_path("/usr/share/asterisk/sounds")
    numbers = [f for f in say_files(root_sounds) if f.name in words]
    assert await render_files([*prompts, *numbers], TtsTools.find()) == []
    try:
        yield Path(settings.ivr.sounds_dir)
    finally:
        for f in prompts:
            f.path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def real_ivr(cti: CtiStack) -> AsyncIterator[list[str]]:
    await seed_ivr_customers(cti.sessions)
    services = Services(
        settings=cti.settings,
        bus=cti.bus,
        engine=cti.engine,
        sessions=cti.sessions,
        pbx=cti.bridge.commands,
        clock=FakeClock(MONDAY_MORNING),  # the center is open
    )
    server = IvrFastAgiServer(services)
    await server.start()
    placed: list[str] = []
    try:
        yield placed
    finally:
        for leg in await cti.bridge.commands.channels():
            if leg.linkedid in placed:
                with contextlib.suppress(ChannelNotFound):
                    await cti.bridge.commands.hangup(leg.channel)
        await server.stop()


def heard(opens: FileOpens, language: str) -> set[str]:
    prefix = f"{language}/"
    return {
        name.removeprefix(prefix).removesuffix(".wav")
        for name in opens.seen()
        if name.startswith(prefix)
    }


async def queued_channel(events: Subscription, linkedid: str) -> str:
    while True:
        e = (await events.get(timeout=60)).data
        if e["type"] == "call.queued" and e["call_id"] == linkedid:
            return str(e["channel"])


def numbers_said(asterisk: AsteriskInstance, channel: str) -> list[str]:
    """SayNumber's files on this channel, from Asterisk's verbose log (main/file.c)."""
    log = (asterisk.log_dir / "full.log").read_text(encoding="utf-8", errors="replace")
    return [
        line.split(" Playing ", 1)[1]
        for line in log.splitlines()
        if f"<{channel}> Playing 'digits/" in line
    ]


async def test_a_chinese_caller_hears_chinese_and_an_english_caller_english(
    cti_stack: CtiStack, asterisk: AsteriskInstance, hold_prompts: Path
) -> None:
    pbx = cti_stack.bridge.commands
    # The router's estimate for a new caller (routing/pbx/announcer.py): 2 minutes, fresh.
    await pbx.set_var("", f"HOTLINE_EWT_{QUEUE}", f"{EWT_MINUTES},{int(time.time())}")
    events = await cti_stack.bus.subscribe("call")
    try:
        async with real_ivr(cti_stack) as placed:
            with FileOpens(hold_prompts / "zh", hold_prompts / "en") as opens:
                zh_call = await cti_stack.call(caller=ZHANG_PHONE, dtmf="ww6")
                placed.append(zh_call)
                zh_channel = await queued_channel(events, zh_call)
                await eventually(lambda: heard(opens, "zh") >= HEARD_FIRST, 60, "zh prompts")
                assert heard(opens, "en") == set()  # nothing English on the zh channel

                en_call = await cti_stack.call(caller=UNKNOWN_PHONE, dtmf="ww9ww2ww6")
                placed.append(en_call)
                en_channel = await queued_channel(events, en_call)
                await eventually(lambda: heard(opens, "en") >= HEARD_SECOND, 60, "en prompts")
                assert heard(opens, "zh") == HEARD_FIRST  # the zh caller heard nothing new

            # The numbers: the minutes in Chinese words (rendered, .wav), the English
            # caller's minutes and position in Asterisk's English (stock .gsm).
            zh_numbers = numbers_said(asterisk, zh_channel)
            assert zh_numbers == [f"'digits/{EWT_MINUTES}.slin' (language 'zh')"]
            en_numbers = numbers_said(asterisk, en_channel)
            assert en_numbers == [
                f"'digits/{EWT_MINUTES}.gsm' (language 'en')",
                "'digits/2.gsm' (language 'en')",  # caller number 2
            ]
    finally:
        await events.close()
        await pbx.set_var("", f"HOTLINE_EWT_{QUEUE}", "")


def played(asterisk: AsteriskInstance, channel: str) -> list[str]:
    log = (asterisk.log_dir / "full.log").read_text(encoding="utf-8", errors="replace")
    return [
        line.split(" Playing ", 1)[1]
        for line in log.splitlines()
        if f"<{channel}> Playing " in line
    ]


async def test_without_rendered_prompts_a_chinese_caller_waits_in_silence_not_in_english(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    pbx = cti_stack.bridge.commands
    await pbx.set_var("", f"HOTLINE_EWT_{QUEUE}", f"{EWT_MINUTES},{int(time.time())}")
    events = await cti_stack.bus.subscribe("call")
    try:
        async with real_ivr(cti_stack) as placed:
            call = await cti_stack.call(caller=ZHANG_PHONE, dtmf="ww6")
            placed.append(call)
            channel = await queued_channel(events, call)

            async def waits_past_the_announcements() -> bool:
                legs = {c.channel: c for c in await pbx.channels()}
                return bool(
                    channel in legs
                    and legs[channel].application == "Queue"
                    and any("digits/" in p for p in played(asterisk, channel))
                )

            await eventually(waits_past_the_announcements, 30, "the caller waits, announced")
            # Missing files are skipped (Playback goes on, app_queue checks first): the
            # caller stays in line and hears the minutes, but no stock English sentence.
            assert [p for p in played(asterisk, channel) if "queue-" in p or "hold_" in p] == []
            assert channel in {c.channel for c in await pbx.channels()}  # still waiting
    finally:
        await events.close()
        await pbx.set_var("", f"HOTLINE_EWT_{QUEUE}", "")


async def press(cti: CtiStack, pbx_channel: str, digits: str) -> None:
    """Keys from the caller's phone: PlayDTMF on the test caller's half of the Local
    channel reaches the PBX half (`pbx_channel`, ...;2) as the caller's keys."""
    phone = pbx_channel.removesuffix(";2") + ";1"
    for digit in digits:
        await cti.bridge.client.send(
            "PlayDTMF", {"Channel": phone, "Digit": digit, "Duration": 150}
        )


async def wait_is_over_without_a_caller_id(
    cti: CtiStack, asterisk: AsteriskInstance, enter_number: str
) -> tuple[str, dict[str, object]]:
    """A zh caller without caller ID waits one second: hotline-fallback says the agents
    are busy, asks for a number (Read; `enter_number` is the file it plays), the caller
    types 555#, the request is booked, goodbye. Returns the channel and the request."""
    events = await cti.bus.subscribe("call")
    try:
        async with real_ivr(cti) as placed:
            call = await cti.call(caller="", dtmf="ww6", extra={"HOTLINE_MAX_WAIT": "1"})
            placed.append(call)
            channel = await queued_channel(events, call)
            await eventually(
                lambda: any(enter_number in p for p in played(asterisk, channel)),
                30,
                f"Read plays {enter_number}",
            )
            await press(cti, channel, "555#")
            while True:
                e = (await events.get(timeout=30)).data
                if e["type"] == "call.callback_requested" and e["call_id"] == call:
                    request = e
                    break
            await cti.wait_ended(call)
            return channel, request
    finally:
        await events.close()


async def test_a_chinese_caller_whose_wait_is_over_hears_the_fallback_in_chinese(
    cti_stack: CtiStack, asterisk: AsteriskInstance, hold_prompts: Path
) -> None:
    with FileOpens(hold_prompts / "zh", hold_prompts / "en") as opens:
        _, request = await wait_is_over_without_a_caller_id(
            cti_stack, asterisk, "hold_enter_number"
        )
        fallback = {"hold_busy", "hold_enter_number", "hold_callback_booked", "hold_goodbye"}
        await eventually(lambda: heard(opens, "zh") >= fallback, 10, "the fallback in zh")
        assert heard(opens, "en") == set()
    assert request["number"] == "555"


async def test_without_rendered_prompts_the_number_is_still_asked_with_the_stock_prompt(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    # Read() hangs up on a missing prompt file: [hotline-prompt] falls back to Asterisk's
    # stock sound, so a caller without caller ID can still leave a number.
    channel, request = await wait_is_over_without_a_caller_id(
        cti_stack, asterisk, "vm-enter-num-to-call"
    )
    assert request["number"] == "555"
    assert not [p for p in played(asterisk, channel) if "hold_" in p]


async def test_the_routers_callback_offer_asks_with_the_stock_prompt_when_not_rendered(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    # The router's overflow "callback_offer" redirects a waiting caller to
    # [hotline-fallback] exten callback: Read() for one key, through [hotline-prompt].
    events = await cti_stack.bus.subscribe("call")
    try:
        async with real_ivr(cti_stack) as placed:
            call = await cti_stack.call(caller=ZHANG_PHONE, dtmf="ww6")
            placed.append(call)
            channel = await queued_channel(events, call)
            await cti_stack.bridge.commands.redirect(
                channel, context="hotline-fallback", exten="callback"
            )
            await eventually(
                lambda: any("vm-press" in p for p in played(asterisk, channel)),
                30,
                "the callback offer",
            )
            await press(cti_stack, channel, "1")
            while True:
                e = (await events.get(timeout=30)).data
                if e["type"] == "call.callback_requested" and e["call_id"] == call:
                    break
            assert e["number"] == ZHANG_PHONE  # the caller ID: no number to type
    finally:
        await events.close()
