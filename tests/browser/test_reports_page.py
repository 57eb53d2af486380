"""The reports page in headless Chromium (zh and en) against a real uvicorn with calls in
the database: a manager (supervisor) signs in, picks a report by queue and a date range,
sees the table and the line, bar and pie charts, downloads the CSV, PNG and SVG and the
numbers match GET /api/reports; the staffing section shows next week's forecast rows.
An agent account is turned away."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import FakeClock
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_user, api_server, api_services, bearer, login
from tests.integration.reports.test_staffing_api import call_row, insert_calls

pytestmark = pytest.mark.browser
ZONE = ZoneInfo("Asia/Shanghai")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

WORDS = {
    "zh": {
        "username": "用户名",
        "password": "密码",
        "signin": "登录",
        "run": "查询",
        "csv": "表格 CSV",
        "png": "图表 PNG",
        "svg": "图表 SVG",
        "forecast": "预测",
        "not_reader": "需要班长、质检或管理员账号",
        "repair": "故障报修",
        "basis": "同星期历史",
        "two_weeks": "历史 2 周",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "signin": "Sign in",
        "run": "Show",
        "csv": "Table CSV",
        "png": "Chart PNG",
        "svg": "Chart SVG",
        "forecast": "Forecast",
        "not_reader": "This page needs a supervisor, QA or administrator account",
        "repair": "Faults and repairs",
        "basis": "Same weekday",
        "two_weeks": "history 2 weeks",
    },
}


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    base: str
    today: dt.date  # center time zone
    next_monday: dt.date


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    now = time.time()
    async with api_services(db_url, clock=FakeClock(now)) as services:
        await add_user(services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
        await add_user(services, "agent02", Role.AGENT, "1002", display_name="王芳")
        today = dt.datetime.fromtimestamp(now, ZONE).date()
        rows: list[dict[str, Any]] = []
        # The last two weeks: repair every day at 09:00 (3 + day calls), billing on
        # even days at 14:00; one repair caller abandoned each day.
        for back in range(1, 15):
            day = today - dt.timedelta(days=back)
            nine = dt.datetime(day.year, day.month, day.day, 9, tzinfo=ZONE)
            rows += [
                call_row("repair", nine + dt.timedelta(minutes=i)) for i in range(3 + back % 4)
            ]
            rows.append(call_row("repair", nine + dt.timedelta(minutes=20), answered=False))
            if back % 2 == 0:
                rows += [
                    call_row("billing", nine + dt.timedelta(hours=5, minutes=i)) for i in range(2)
                ]
        await insert_calls(services, rows)
        next_monday = today + dt.timedelta(days=7 - today.weekday())
        async with api_server(create_app(services)) as base:
            yield Center(services, base, today, next_monday)


async def sign_in(page: Page, base: str, lang: str, username: str) -> None:
    await page.goto(f"{base}/reports/")
    if lang == "en":
        await page.get_by_role("button", name="English").click()
    w = WORDS[lang]
    await page.get_by_label(w["username"]).fill(username)
    await page.get_by_label(w["password"]).fill(PASSWORD)
    await page.get_by_role("button", name=w["signin"], exact=True).click()


async def api_report(base: str, params: dict[str, str]) -> tuple[dict[str, Any], str]:
    async with httpx.AsyncClient(base_url=base) as client:
        headers = bearer(await login(client, "boss"))
        r = await client.get("/api/reports", params=params, headers=headers)
        assert r.status_code == 200, r.text
        c = await client.get("/api/reports", params={**params, "format": "csv"}, headers=headers)
        return r.json(), c.text


async def download(page: Page, button: str) -> tuple[str, bytes]:
    async with page.expect_download() as info:
        await page.get_by_role("button", name=button, exact=True).click()
    d = await info.value
    path = await d.path()
    return d.suggested_filename, await asyncio.to_thread(Path(path).read_bytes)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_manager_reads_a_report_downloads_it_and_sees_the_staffing_forecast(
    page: Page, center: Center, lang: str
) -> None:
    w = WORDS[lang]
    await sign_in(page, center.base, lang, "boss")
    await expect(page.locator("#me")).to_have_text("陈主管")

    first = center.today - dt.timedelta(days=14)
    last = center.today - dt.timedelta(days=1)
    await page.locator("#interval").select_option("day")
    await page.locator("#dimension").select_option("queue")
    await page.locator("#from").fill(first.isoformat())
    await page.locator("#to").fill(last.isoformat())
    await page.get_by_role("button", name=w["run"], exact=True).click()

    params = {
        "interval": "day",
        "dimension": "queue",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "lang": lang,
    }
    api, api_csv = await api_report(center.base, params)
    assert len(api["rows"]) == 14 + 7  # repair daily, billing every other day
    rows = page.locator("#report-rows tr")
    await expect(rows).to_have_count(len(api["rows"]))
    # The table shows the API's numbers, row by row.
    for i, row in enumerate(api["rows"][:5]):
        cell = rows.nth(i).locator('td[data-metric="offered"]')
        await expect(cell).to_have_text(str(row["offered"]))
    total = page.locator('#report-total td[data-metric="offered"]')
    await expect(total).to_have_text(str(api["total"]["offered"]))
    # Three charts drawn in the page, from the chart API's data.
    await expect(page.locator("#chart-line svg path.series")).to_have_count(2)
    await expect(page.locator("#chart-bar svg rect.bar")).to_have_count(2)
    await expect(page.locator("#chart-pie svg .slice")).to_have_count(2)
    charts = await page.evaluate("window.hotlineReports.charts")
    by_label = {k["label"]: k["offered"] for k in api["by_key"]}
    assert dict(zip(charts["pie"]["x"], charts["pie"]["series"][0]["values"], strict=True)) == {
        label: float(v) for label, v in by_label.items()
    }
    assert w["repair"] in by_label
    await page.screenshot(path=artifact(f"reports-page-{lang}.png"), full_page=True)

    # CSV: the API's CSV, and its numbers are the JSON's.
    name, data = await download(page, w["csv"])
    assert name.endswith(".csv")
    text = data.decode("utf-8")
    assert text == api_csv
    lines = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [
        (r["interval_start"], r["key"], int(r["offered"]), int(r["answered"])) for r in lines
    ] == [(r["interval_start"], r["key"], r["offered"], r["answered"]) for r in api["rows"]]

    # PNG of the pie chart: a real PNG of a sensible size.
    await page.locator("#dl-kind").select_option("pie")
    name, png = await download(page, w["png"])
    assert name.startswith("chart-pie-offered")
    assert name.endswith(".png")
    assert png[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert width >= 300, width
    assert height >= 200, height
    assert len(png) > 2000
    artifact(f"reports-chart-{lang}.png").write_bytes(png)
    # SVG: the numbers of the API are in it.
    name, svg = await download(page, w["svg"])
    assert name.endswith(".svg")
    assert svg.lstrip().startswith(b"<svg") or b"<svg" in svg[:200]
    assert w["repair"].encode() in svg
    # The pie's shares are the API's offered calls per queue.
    offered = sum(by_label.values())
    for label, value in by_label.items():
        assert f"{label} {100 * value / offered:.1f}%".encode() in svg

    # Staffing: next week's forecast from two weeks of history.
    await page.locator("#st-week").fill(center.next_monday.isoformat())
    await page.locator("#st-weeks").fill("2")
    await page.get_by_role("button", name=w["forecast"], exact=True).click()
    # (The page forecast the default week at sign-in; this answer replaces it.)
    await expect(page.locator("#st-status")).to_contain_text(w["two_weeks"])
    await page.locator("#st-queue").select_option("repair")
    await page.locator("#st-day").select_option(center.next_monday.isoformat())
    staff = page.locator("#staffing-rows tr")
    await expect(staff).to_have_count(48)
    nine = page.locator(f'#staffing-rows tr[data-start^="{center.next_monday.isoformat()}T09:00"]')
    body = await page.evaluate("window.hotlineReports.staffing")
    (repair,) = [q for q in body["queues"] if q["queue"] == "repair"]
    want = next(
        r for r in repair["intervals"] if r["start"].startswith(f"{center.next_monday}T09:00")
    )
    assert want["calls"] > 0
    assert want["agents_needed"] >= 1
    await expect(nine.locator('td[data-col="needed"]')).to_have_text(str(want["agents_needed"]))
    await expect(nine.locator('td[data-col="basis"]')).to_have_text(w["basis"])
    await expect(page.locator("#chart-staffing svg path.series")).to_have_count(3)
    await nine.scroll_into_view_if_needed()
    await page.screenshot(path=artifact(f"reports-staffing-{lang}.png"), full_page=True)


async def test_an_agent_is_turned_away(page: Page, center: Center) -> None:
    await sign_in(page, center.base, "zh", "agent02")
    await expect(page.locator("#signin-error")).to_have_text(WORDS["zh"]["not_reader"])
    await expect(page.locator("#board")).to_be_hidden()
