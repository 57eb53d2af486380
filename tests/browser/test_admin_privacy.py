"""The administration page's Privacy tab in headless Chromium against a real uvicorn, in
Chinese and English: an admin finds a customer by account number, downloads the export
(a JSON file with the name and the calls), then erases the person with a reason after an
explicit confirmation; through the API the name is pseudonymised and the ticket's trail
is still there. Screenshots: test-artifacts/admin-privacy-*.png."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlmodel import select

from db.models import Role, Ticket, TicketEvent, TicketState
from hotline.http import create_app
from hotline.services import Services
from tests.browser.conftest import artifact
from tests.harness.http_app import (
    PASSWORD,
    add_call,
    add_customer,
    add_user,
    api_server,
    api_services,
)

pytestmark = pytest.mark.browser
MOBILE = "13912345678"

WORDS = {
    "zh": {
        "username": "用户名",
        "password": "密码",
        "signin": "登录",
        "tab": "个人信息",
        "tab_audit": "审计日志",
        "q": "户号或姓名",
        "search": "查询",
        "export": "导出资料",
        "erase": "删除个人信息…",
        "reason": "删除依据（必填，如申请单号）",
        "confirm": "我确认：此操作不可撤销",
        "submit": "永久删除个人信息",
        "need_confirm": "请先勾选确认",
        "irreversible": "不可撤销",
        "done": "个人信息已删除",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "signin": "Sign in",
        "tab": "Privacy",
        "tab_audit": "Audit log",
        "q": "Account number or name",
        "search": "Search",
        "export": "Export data",
        "erase": "Erase personal data…",
        "reason": "Reason (required, e.g. the request number)",
        "confirm": "I confirm: this cannot be undone",
        "submit": "Erase permanently",
        "need_confirm": "Tick the confirmation first",
        "irreversible": "cannot be undone",
        "done": "erased",
    },
}


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    base: str
    customer_id: int
    ticket_id: int


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with api_services(db_url) as services:
        await add_user(services, "boss", Role.ADMIN, display_name="王管理")
        zhang = await add_customer(services, "张伟", MOBILE, account="1000000018")
        await add_customer(services, "李雷", "13800001111", account="1000000026")
        assert zhang.id is not None
        await add_call(services, "1900000001.1", caller=MOBILE, customer_id=zhang.id)
        async with services.sessions() as s:
            ticket = Ticket(
                number="GD20261204-000001",
                category="repair",
                department="repair_crew",
                customer_id=zhang.id,
                subject="燃气表漏气",
                description=f"客户张伟，回电 {MOBILE}",
                contact_name="张伟",
                contact_number=MOBILE,
                state=TicketState.IN_PROGRESS,
            )
            s.add(ticket)
            await s.flush()
            assert ticket.id is not None
            s.add(TicketEvent(ticket_id=ticket.id, action="created", note="来电", data={}))
            await s.commit()
            ticket_id = ticket.id
        async with api_server(create_app(services)) as base:
            yield Center(services, base, zhang.id, ticket_id)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_given_an_admin_when_exporting_then_erasing_a_customer_then_the_file_is_downloaded_and_the_person_pseudonymised(
    page: Page, center: Center, lang: str, tmp_path: Path
) -> None:
    w = WORDS[lang]
    await page.add_init_script(f"localStorage.setItem('hotline.lang', '{lang}')")
    await page.goto(f"{center.base}/admin/")
    form = page.locator("#signin-form")
    await form.get_by_label(w["username"]).fill("boss")
    await form.get_by_label(w["password"]).fill(PASSWORD)
    await form.get_by_role("button", name=w["signin"], exact=True).click()
    await expect(page.locator("#me")).to_have_text("王管理")

    # The tab is reached with the keyboard like the others (End from the audit tab).
    await page.get_by_role("tab", name=w["tab_audit"]).click()
    await page.get_by_role("tab", name=w["tab_audit"]).focus()
    await page.keyboard.press("End")
    await expect(page.get_by_role("tab", name=w["tab"])).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#panel-privacy")).to_be_visible()

    await page.get_by_label(w["q"]).fill("1000000018")
    await page.locator("#pv-form").get_by_role("button", name=w["search"]).click()
    row = page.locator(f'#pv-rows tr[data-customer-id="{center.customer_id}"]')
    await expect(row).to_contain_text("张伟")
    await expect(page.locator("#pv-rows tr")).to_have_count(1)

    # Export: a JSON file with the person's name and calls.
    async with page.expect_download() as info:
        await row.get_by_role("button", name=w["export"]).click()
    download = await info.value
    assert download.suggested_filename == f"customer-{center.customer_id}.json"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert doc["customer"]["name"] == "张伟"
    assert [c["linkedid"] for c in doc["calls"]] == ["1900000001.1"]
    await expect(page.locator("#pv-result")).to_contain_text(download.suggested_filename)

    # Erase: a reason and an explicit confirmation; the form says it cannot be undone.
    await row.get_by_role("button", name=w["erase"]).click()
    erase = page.locator("#erase-form")
    await expect(erase).to_be_visible()
    await expect(erase).to_contain_text(w["irreversible"])
    await expect(page.get_by_label(w["reason"])).to_be_focused()
    await page.get_by_label(w["reason"]).fill("PIPL-2026-0042")
    await erase.get_by_role("button", name=w["submit"]).click()
    await expect(page.locator("#erase-error")).to_contain_text(w["need_confirm"])
    await page.screenshot(path=artifact(f"admin-privacy-confirm-{lang}.png"), full_page=True)
    await page.get_by_label(w["confirm"]).check()
    await page.keyboard.press("Enter")  # the keyboard submits the form
    await expect(page.locator("#pv-result")).to_contain_text(w["done"])
    await expect(erase).to_be_hidden()
    await expect(row).to_contain_text(f"#{center.customer_id}")  # the pseudonym, found again
    await page.screenshot(path=artifact(f"admin-privacy-erased-{lang}.png"), full_page=True)

    # Through the API: the name is pseudonymised, the ticket and its trail are still there.
    token = await page.evaluate(
        "JSON.parse(sessionStorage.getItem('hotline.session')).access_token"
    )
    r = await page.context.request.get(
        f"{center.base}/api/privacy/customers/{center.customer_id}/export",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status == 200
    after = await r.json()
    assert after["customer"]["name"] == f"已删除客户 #{center.customer_id}"
    assert after["erased_at"] is not None
    assert [t["number"] for t in after["tickets"]] == ["GD20261204-000001"]
    async with center.services.sessions() as s:
        events = (
            await s.exec(select(TicketEvent).where(TicketEvent.ticket_id == center.ticket_id))
        ).all()
    assert [e.action for e in events] == ["created"]
