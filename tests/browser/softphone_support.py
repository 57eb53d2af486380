"""What the browser-phone tests (test_softphone*.py) and bench/softphone.py share: tones
made with sox and measured with `sox stat`, a headless Chromium whose fake microphone
plays a given file, a desk page in its own browser context (its JavaScript errors
collected), signing in on the desk with "browser phone" chosen, and the page phone's
state (window.hotlinePhone)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright, expect

from routing.service import RoutingService
from tests.browser.conftest import ARGS, CHROMIUM
from tests.harness.http_app import PASSWORD
from tests.integration.hotline.support import Backend
from tests.support import bounded_teardown, eventually

REGISTER_MS = 20_000  # the page's JsSIP registers over WebSocket


def tone(path: Path, hz: int, rate: int, seconds: int) -> Path:
    """A sine of `hz` (16-bit mono WAV at `rate`), 6 dB below full scale."""
    subprocess.run(
        [
            *("sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(path)),
            *("synth", str(seconds), "sine", str(hz), "gain", "-6"),
        ],
        check=True,
        timeout=30,
    )
    return path


def stat(path: Path) -> dict[str, float]:
    """`sox <file> -n stat`: its numbers by name ("RMS amplitude", "Rough frequency")."""
    done = subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, float] = {}
    for line in done.stderr.splitlines():
        name, _, value = line.partition(":")
        try:
            out[" ".join(name.split())] = float(value.strip())
        except ValueError:
            continue
    return out


@contextlib.asynccontextmanager
async def fake_mic_chromium(mic: Path) -> AsyncIterator[Browser]:
    """Debian's Chromium (tests/browser/conftest.py) with fake media devices: no
    permission prompt, and a microphone that plays `mic` (a WAV file) in a loop."""
    args = [
        *ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    pw = await async_playwright().start()
    try:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    except BaseException:
        await bounded_teardown(("playwright", pw.stop))
        raise
    try:
        yield chromium
    finally:
        # A browser that does not close must fail the test, not hang the run.
        await bounded_teardown(("chromium", chromium.close), ("playwright", pw.stop))


@contextlib.asynccontextmanager
async def desk_page(browser: Browser, errors: list[str]) -> AsyncIterator[Page]:
    """A page in a browser context of its own (its own storage: one agent), laptop-sized,
    in Chinese; JavaScript errors on it are appended to `errors`."""
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
    finally:
        await bounded_teardown(("browser context", context.close))


async def sign_in_with_browser_phone(page: Page, base: str, username: str, password: str) -> None:
    """On the desk's sign-in form: "browser phone", the user's name and password; returns
    once the page's phone registered (it then tells the router: POST /api/agent/phone)."""
    await page.goto(f"{base}/desk/")
    await page.get_by_label("浏览器话机").check()
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#softphone")).to_have_attribute(
        "data-state", "registered", timeout=REGISTER_MS
    )


async def phone(page: Page) -> dict[str, Any]:
    """The page phone's registration state, call state and RTP counters."""
    result: dict[str, Any] = await page.evaluate(
        "async () => ({state: window.hotlinePhone.state, call: window.hotlinePhone.callState,"
        " stats: await window.hotlinePhone.stats()})"
    )
    return result


def packets(state: dict[str, Any], direction: str) -> int:
    """RTP packets the page received ("inbound") or sent ("outbound") on its call."""
    stats = state.get("stats") or {}
    return int((stats.get(direction) or {}).get("packets") or 0)


async def ready_on_page(
    page: Page, b: Backend, routing: RoutingService, ext: str, *, ready: bool = True
) -> None:
    """Signs in with the browser phone, waits until the router dials it, signs in to the
    phone (not ready) and goes ready unless `ready` is False."""
    base = str(b.http.base_url).rstrip("/")
    await sign_in_with_browser_phone(page, base, f"agent{ext}", PASSWORD)
    await expect(page.locator("#link")).to_have_attribute("data-state", "on")

    def routed() -> bool:
        return routing.router.by_extension[ext].phone == f"PJSIP/{ext}-web"

    await eventually(routed, 10, f"the router to dial {ext}'s browser phone")
    await page.get_by_role("button", name="签入话机").click()
    await expect(page.locator("#state-badge")).to_have_text("示忙")
    if not ready:
        return
    await page.get_by_role("button", name="就绪", exact=True).click()
    await expect(page.locator("#state-badge")).to_have_text("就绪")


async def on_call(b: Backend, ext: str, call: str) -> None:
    async def talking() -> bool:
        agent = await b.agent(ext)
        return bool(agent["state"] == "on_call" and agent["linkedid"] == call)

    await eventually(talking, 30, f"agent {ext} on call {call}")
