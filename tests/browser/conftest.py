"""Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by the
Python Playwright package (never `playwright install`). Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support import bounded_teardown

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    pw = await async_playwright().start()
    try:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    except BaseException:
        await bounded_teardown(("playwright", pw.stop))
        raise
    try:
        yield chromium
    finally:
        # A browser that does not close must fail the test, not hang the run.
        await bounded_teardown(("chromium", chromium.close), ("playwright", pw.stop))


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    # A laptop screen: everything an agent needs must fit and work at this size.
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        await bounded_teardown(("browser context", context.close))
    assert not errors, f"JavaScript errors on the page: {errors}"


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
