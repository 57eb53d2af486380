"""`make demo` with the browser phone, as a newcomer would try it (issue 14): the demo
runs (`hotline-dev demo`), agent01 signs in on the desk page with "browser phone",
signs in to the phone and goes ready; a simulated caller is offered to the page, rings,
is answered there, and speaks (the demo's callers play a rendered prompt): audio
arrives in the page. Headless Chromium with a fake microphone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import artifact
from tests.browser.softphone_support import (
    desk_page,
    fake_mic_chromium,
    packets,
    phone,
    sign_in_with_browser_phone,
    tone,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
DESK = re.compile(r"Agent desktop : (http://127\.0\.0\.1:\d+)/desk/")
STARTUP_SECONDS = 150  # seeding, prompts with espeak-ng, Asterisk, the backend
RING_SECONDS = 120  # callers every second: agent01 gets one once the others are busy


@contextlib.asynccontextmanager
async def demo(var: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """`hotline-dev demo` in the background; yields the desk's base URL and its output."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "devtools.cli", "demo", "--duration", "400"),
        *("--call-every", "1", "--customers", "300", "--http-port", "0", "--var", str(var)),
        *("--sandbox-name", f"demo-phone-{os.getpid()}"),  # beside test_demo_smoke's
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            lines.append(raw.decode(errors="replace").rstrip())

    reader = asyncio.create_task(read())
    try:

        def banner() -> bool:
            return any(DESK.search(line) for line in lines) or proc.returncode is not None

        await eventually(banner, STARTUP_SECONDS, "the demo's banner")
        found = next((m for line in lines if (m := DESK.search(line))), None)
        assert found is not None, "\n".join(lines[-40:])
        yield found.group(1), lines
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGINT)  # the demo stops cleanly on Ctrl-C
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


@pytest.mark.timeout(420)
async def test_given_the_demo_when_agent01_takes_calls_on_the_browser_phone_then_a_caller_speaks(
    tmp_path: Path,
) -> None:
    mic = tone(tmp_path / "mic.wav", 440, 48000, 30)
    errors: list[str] = []
    async with (
        demo(tmp_path / "demo") as (base, lines),
        fake_mic_chromium(mic) as browser,
        desk_page(browser, errors) as page,
    ):
        await sign_in_with_browser_phone(page, base, "agent01", "hotline-demo")
        # Registered: the page told the router to ring it there (else the demo's own
        # simulated phone of 1001 would take agent01's first call).
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            r = await http.post(
                "/api/auth/login", json={"username": "supervisor", "password": "hotline-demo"}
            )
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

            async def routed() -> bool:
                board = (await http.get("/api/supervisor/board", headers=auth)).json()
                agent = next(a for a in board["agents"] if a["extension"] == "1001")
                return bool(agent["phone"] == "PJSIP/1001-web")

            await eventually(routed, 20, "the router to ring agent01's browser phone")
        await page.get_by_role("button", name="签入话机").click()
        await expect(page.locator("#state-badge")).to_have_text("示忙")
        await page.get_by_role("button", name="就绪", exact=True).click()
        await expect(page.locator("#state-badge")).to_have_text("就绪")

        card = page.locator("#softphone")
        await expect(card).to_have_attribute("data-call", "ringing", timeout=RING_SECONDS * 1000)
        await page.screenshot(path=artifact("demo-browser-phone-ringing.png"))
        await page.get_by_role("button", name="接听").click()
        await expect(card).to_have_attribute("data-call", "answered")

        async def caller_heard() -> bool:
            state = await phone(page)
            energy = ((state.get("stats") or {}).get("inbound") or {}).get("energy") or 0
            return (
                packets(state, "inbound") > 50 and packets(state, "outbound") > 50 and (energy > 0)
            )

        await eventually(caller_heard, 20, "the caller's voice in the page, ours sent")
        await page.screenshot(path=artifact("demo-browser-phone-talking.png"))
        await page.locator("#phone-hangup").click()
        await expect(card).to_have_attribute("data-call", "idle")
    assert not errors, errors
    assert not any("Traceback" in line for line in lines), "\n".join(lines[-60:])
