"""The work-order workbench (/tickets/) in headless Chromium against a real uvicorn, in
Chinese and English: a repair-crew clerk sees the repair ticket waiting in their
department, claims it, starts, writes a work-log entry, attaches a photo (a real JPEG or
PNG made here; it shows back as an image), resolves, marks the customer informed and
closes; the ticket's history through the API has every step, the photo is sealed on disk
and its view is audited. Then the same work on a phone-sized screen, the printable sheet
and list, and a supervisor playing the linked call's recording. Screenshots in
test-artifacts/workbench-*.png."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, FilePayload, Page, expect

from db.models import Role, User, metadata
from hotline.http import create_app
from hotline.services import Services
from kernel.at_rest import KEY_ENV, MAGIC, new_key
from kernel.audit import Actor
from tests.browser.conftest import artifact
from tests.harness.http_app import (
    PASSWORD,
    add_call,
    add_customer,
    add_user,
    api_server,
    api_services,
)
from tests.unit.tickets.test_attachment_files import tiny_jpeg, tiny_png
from tickets.records import TicketDraft
from tickets.service import TicketService

pytestmark = pytest.mark.browser
AUDIT = metadata.tables["audit_log"]
RECORDINGS = metadata.tables["recordings"]

WORDS = {
    "zh": {
        "username": "用户名",
        "password": "密码",
        "signin": "登录",
        "claim": "领取（派给我）",
        "start": "开始处理",
        "log": "记录内容",
        "add_log": "添加记录",
        "upload": "上传附件",
        "view": "查看",
        "resolution": "处理结果（办结时必填）",
        "resolve": "办结",
        "inform": "已告知客户",
        "close": "关闭工单",
        "assigned": "已派单",
        "closed": "已关闭",
        "in_progress": "处理中",
        "back": "返回列表",
        "print": "打印工单",
        "mine": "我的工单",
        "claimed": "已领取工单 {n}",
        "closed_msg": "工单 {n} 已关闭",
        "left": "响应剩余",
        "note": "已到现场，更换调压阀，复查无泄漏",
        "fix": "更换调压阀，已通气",
        "sla": "时限状态",
        "search": "查询",
        "warning": "预警",
        "play": "播放录音 1",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "signin": "Sign in",
        "claim": "Claim (assign to me)",
        "start": "Start work",
        "log": "Entry",
        "add_log": "Add entry",
        "upload": "Upload",
        "view": "View",
        "resolution": "Resolution (needed to resolve)",
        "resolve": "Resolve",
        "inform": "Customer informed",
        "close": "Close",
        "assigned": "Assigned",
        "closed": "Closed",
        "in_progress": "In progress",
        "back": "Back to the list",
        "print": "Print sheet",
        "mine": "Mine",
        "claimed": "You claimed {n}",
        "closed_msg": "{n} closed",
        "left": "response:",
        "note": "On site: regulator replaced",
        "fix": "Regulator replaced, gas back on",
        "sla": "SLA",
        "search": "Search",
        "warning": "Warning",
        "play": "Play recording 1",
    },
}
STEPS = [
    "created", "assigned", "started", "commented", "attached",
    "updated",  # the resolution text, then the transition
    "resolved", "follow_up_scheduled",  # repairs get a follow-up call (followups/)
    "informed", "closed",
]  # fmt: skip


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    frames = b"".join(
        struct.pack("<h", 8000 if (i // 20) % 2 else -8000) for i in range(int(rate * seconds))
    )
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", len(frames)) + frames


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    base: str
    ticket_id: int
    number: str
    clerk_id: int
    attachments: Path


@pytest.fixture
async def center(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Center]:
    monkeypatch.setenv(KEY_ENV, new_key())
    env = {
        "HOTLINE_ATTACHMENTS__ROOT": str(tmp_path / "attachments"),
        "HOTLINE_RECORDING__ROOT": str(tmp_path / "recordings"),
    }
    async with api_services(db_url, env=env) as services:
        clerk = await add_user(services, "repair01", Role.AGENT, display_name="王师傅")
        await add_user(services, "boss", Role.SUPERVISOR, display_name="陈主管")
        dispatcher = await add_user(services, "agent02", Role.AGENT, "1002", display_name="李话务")
        async with services.sessions() as s:
            row = await s.get(User, clerk.id)
            assert row is not None
            row.department = "repair_crew"
            s.add(row)
            await s.commit()
        customer = await add_customer(services, "张三", "13912345678", district="滨江区")
        call = await add_call(
            services, "1763.501", caller="13912345678", customer_id=customer.id,
            agent_id=dispatcher.id,
        )  # fmt: skip
        audio = wav()
        (tmp_path / "recordings" / "r").mkdir(parents=True)
        (tmp_path / "recordings" / "r" / "501.wav").write_bytes(audio)
        now = services.clock.now()
        async with services.engine.begin() as conn:
            await conn.execute(
                sa.insert(RECORDINGS).values(
                    id=501, call_id=call.id, linkedid=call.linkedid, agent_id=dispatcher.id,
                    path="r/501.wav", state="completed", started_at=now, ended_at=now,
                    duration_seconds=1.0, size_bytes=len(audio),
                    sha256=hashlib.sha256(audio).hexdigest(), created_at=now,
                )
            )  # fmt: skip
        tickets = TicketService(services)
        created = await tickets.create(
            TicketDraft(
                category="repair",
                subject="厨房燃气表处有气味",
                description="客户来电：厨房燃气表附近有气味，已关阀门。",
                customer_id=customer.id,
                contact_number="13912345678",
                contact_name="张三",
            ),
            Actor(dispatcher.id, "李话务", "agent"),
            linkedid=call.linkedid,
        )
        ticket = created.ticket
        assert ticket.id is not None
        async with api_server(create_app(services)) as base:
            yield Center(
                services, base, ticket.id, ticket.number, clerk.id or 0, tmp_path / "attachments"
            )


async def sign_in(page: Page, base: str, lang: str, username: str = "repair01") -> None:
    await page.goto(f"{base}/tickets/")
    if lang == "en":
        await page.get_by_role("button", name="English").click()
    words = WORDS[lang]
    await page.get_by_label(words["username"]).fill(username)
    await page.get_by_label(words["password"]).fill(PASSWORD)
    await page.get_by_role("button", name=words["signin"], exact=True).click()


async def audit_rows(services: Services) -> list[tuple[str, str]]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT.c.action, AUDIT.c.actor_name)
            .where(AUDIT.c.object_type == "ticket_attachment")
            .order_by(AUDIT.c.id)
        )
        return [(r.action, r.actor_name) for r in rows]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_given_a_repair_clerk_when_working_the_ticket_to_closed_then_every_step_is_kept(
    page: Page, browser: Browser, center: Center, lang: str
) -> None:
    words = WORDS[lang]
    await sign_in(page, center.base, lang)
    row = page.locator(f'#tickets tr[data-ticket-id="{center.ticket_id}"]')
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("张三")
    await expect(row).to_contain_text("139****5678")  # masked for an agent
    await expect(page.locator("#tickets")).not_to_contain_text("13912345678")
    await expect(row.locator(".countdown")).to_contain_text(words["left"])
    await page.screenshot(path=artifact(f"workbench-list-{lang}.png"), full_page=True)

    await row.get_by_role("button", name=center.number).click()
    sheet = page.locator("#sheet")
    await expect(sheet).to_be_visible()
    await expect(page.locator("#sheet-title")).to_contain_text(center.number)
    await expect(page.locator("#calls li")).to_have_count(1)

    await sheet.get_by_role("button", name=words["claim"]).click()
    status = page.locator("#sheet-status")
    await expect(status).to_have_text(words["claimed"].format(n=center.number))
    await expect(page.locator("#sheet-details .badge[data-st]")).to_have_text(words["assigned"])
    await sheet.get_by_role("button", name=words["start"]).click()
    await expect(page.locator("#sheet-details .badge[data-st]")).to_have_text(words["in_progress"])

    await sheet.get_by_label(words["log"]).fill(words["note"])
    await sheet.get_by_role("button", name=words["add_log"]).click()
    await expect(page.locator("#history")).to_contain_text(words["note"])

    photo = tiny_jpeg(96, 64) if lang == "zh" else tiny_png(96, 64)
    name, kind = ("燃气表.jpg", "image/jpeg") if lang == "zh" else ("meter.png", "image/png")
    payload: FilePayload = {"name": name, "mimeType": kind, "buffer": photo}
    await page.locator("#attach-file").set_input_files(files=[payload])
    await sheet.get_by_role("button", name=words["upload"], exact=True).click()
    item = page.locator("#attachments li")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text(name)
    await item.get_by_role("button", name=words["view"]).click()
    image = page.locator("#preview img")
    await expect(image).to_be_visible()
    await page.wait_for_function(
        "() => { const i = document.querySelector('#preview img'); "
        "return i && i.complete && i.naturalWidth === 96 && i.naturalHeight === 64; }"
    )
    [on_disk] = [p for p in center.attachments.rglob("*") if p.is_file()]
    assert on_disk.read_bytes().startswith(MAGIC)  # sealed at rest, not an image file
    await page.screenshot(path=artifact(f"workbench-sheet-{lang}.png"), full_page=True)

    await sheet.get_by_label(words["resolution"]).fill(words["fix"])
    await sheet.get_by_role("button", name=words["resolve"], exact=True).click()
    await expect(page.locator("#sheet-resolution")).to_have_text(words["fix"])
    await sheet.get_by_role("button", name=words["inform"]).click()
    await expect(sheet.get_by_role("button", name=words["close"], exact=True)).to_be_visible()
    await sheet.get_by_role("button", name=words["close"], exact=True).click()
    await expect(status).to_have_text(words["closed_msg"].format(n=center.number))
    await expect(page.locator("#sheet-details .badge[data-st]")).to_have_text(words["closed"])
    await page.screenshot(path=artifact(f"workbench-closed-{lang}.png"), full_page=True)

    history = await TicketService(center.services).history(center.ticket_id)
    assert [e.action for e in history] == STEPS, [
        (e.action, e.field, e.actor_name) for e in history
    ]
    assert {e.actor_name for e in history[1:]} == {"王师傅"}
    assert [e.to_value for e in history if e.field == "state"] == [
        "new", "in_progress", "resolved", "informed", "closed"
    ]  # fmt: skip
    assert await audit_rows(center.services) == [("ticket_attachment.view", "王师傅")]

    # The printable sheet: the same tab, the same session.
    await page.locator("#print-sheet").click()
    await expect(page.locator("#number")).to_have_text(center.number)
    await expect(page.locator("#history")).to_contain_text(words["note"])
    await expect(page.locator("#fields")).to_contain_text("139****5678")
    await page.emulate_media(media="print")
    await page.screenshot(path=artifact(f"workbench-print-sheet-{lang}.png"), full_page=True)
    await page.emulate_media(media="screen")

    # The printable list of "mine" (closed tickets included).
    await page.goto(f"{center.base}/tickets/print.html?list=1&scope=mine")
    await expect(page.locator("#rows tr")).to_have_count(1)
    await expect(page.locator("#rows")).to_contain_text(center.number)
    await page.emulate_media(media="print")
    await page.screenshot(path=artifact(f"workbench-print-list-{lang}.png"), full_page=True)

    # A repair crew's phone: the list as cards, the sheet in one column.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    try:
        mobile = await phone.new_page()
        errors: list[str] = []
        mobile.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(mobile, center.base, lang)
        await mobile.get_by_role("button", name=words["mine"]).click()
        card = mobile.locator(f'#tickets tr[data-ticket-id="{center.ticket_id}"]')
        await expect(card).to_be_visible()
        width = await mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
        await mobile.screenshot(path=artifact(f"workbench-phone-list-{lang}.png"), full_page=True)
        await card.get_by_role("button", name=center.number).click()
        await expect(mobile.locator("#attachments li")).to_have_count(1)
        width = await mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the sheet scrolls sideways on a phone: {width}px"
        await mobile.screenshot(path=artifact(f"workbench-phone-sheet-{lang}.png"), full_page=True)
        assert not errors, errors
    finally:
        await phone.close()


async def test_given_filters_when_searching_by_sla_then_the_list_follows_the_server(
    page: Page, center: Center
) -> None:
    await sign_in(page, center.base, "en")
    await expect(page.locator("#tickets tr")).to_have_count(1)
    await page.get_by_label("SLA").select_option("breached")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#list-empty")).to_be_visible()
    await page.get_by_label("SLA").select_option("on_time")
    await page.get_by_label("District").fill("滨江区")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#tickets tr")).to_have_count(1)
    await page.get_by_label("District").fill("西湖区")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#list-empty")).to_be_visible()


async def test_given_a_supervisor_when_opening_the_linked_call_then_its_recording_plays(
    page: Page, center: Center
) -> None:
    await sign_in(page, center.base, "zh", username="boss")
    await page.get_by_role("button", name="全部").click()
    await page.get_by_role("button", name=center.number).click()
    call = page.locator('#calls li[data-linkedid="1763.501"]')
    await expect(call).to_contain_text("13912345678")  # supervisors see full numbers
    await call.get_by_role("button", name="播放录音 1").click()
    audio = call.locator("audio")
    await expect(audio).to_have_attribute("data-recording-id", "501")
    await page.wait_for_function(
        "() => { const a = document.querySelector('#calls audio'); "
        "return a && a.readyState >= 1 && a.duration > 0.9; }"
    )
    await page.screenshot(path=artifact("workbench-recording-zh.png"), full_page=True)
    async with center.services.engine.connect() as conn:
        actions = (
            (
                await conn.execute(
                    sa.select(AUDIT.c.action).where(AUDIT.c.object_type == "recording")
                )
            )
            .scalars()
            .all()
        )
    assert actions, "playing a recording is audited by recordings/"
    async with center.services.engine.connect() as conn:
        shown = (
            (
                await conn.execute(
                    sa.select(AUDIT.c.actor_name).where(AUDIT.c.action == "customer.number_shown")
                )
            )
            .scalars()
            .all()
        )
    assert "boss" in shown


async def test_given_a_resolved_ticket_when_reopened_then_transferred_with_a_reason_then_it_leaves(
    page: Page, center: Center
) -> None:
    tickets = TicketService(center.services)
    clerk = Actor(center.clerk_id, "王师傅", "agent")
    await tickets.transition(center.ticket_id, "resolve", clerk, resolution="误报")
    await sign_in(page, center.base, "zh")
    await page.get_by_role("button", name=center.number).click()
    sheet = page.locator("#sheet")
    await expect(sheet.get_by_role("button", name="开始处理")).to_be_hidden()
    await sheet.get_by_label("重开原因").fill("客户再次来电，仍有气味")
    await sheet.get_by_role("button", name="重新打开").click()
    await expect(page.locator("#sheet-status")).to_have_text(f"工单 {center.number} 已重新打开")
    # Whoever resolved it holds it: back to assigned (tickets/lifecycle.py).
    await expect(page.locator("#sheet-details .badge[data-st]")).to_have_text("已派单")

    await sheet.get_by_role("button", name="转派", exact=True).click()  # no reason yet
    await expect(page.locator("#sheet-status")).to_have_text("请填写转派原因")
    await expect(sheet.get_by_label("转派原因")).to_be_focused()
    await sheet.get_by_label("转派到科室").select_option("network")
    await sheet.get_by_label("转派原因").fill("庭院管网漏点，需管网维护科处理")
    await sheet.get_by_role("button", name="转派", exact=True).click()
    await expect(page.locator("#sheet-status")).to_have_text(
        f"工单 {center.number} 已转派到 管网维护科"
    )
    history = await tickets.history(center.ticket_id)
    transferred = [e for e in history if e.action == "transferred"]
    assert [(e.from_value, e.to_value, e.note) for e in transferred] == [
        ("repair_crew", "network", "庭院管网漏点，需管网维护科处理")
    ]
    assert [e.note for e in history if e.action == "reopened"] == ["客户再次来电，仍有气味"]
    await page.get_by_role("button", name="返回列表").click()
    await expect(page.locator("#list-empty")).to_be_visible()  # no longer repair crew's
