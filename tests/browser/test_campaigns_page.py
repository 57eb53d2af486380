"""The campaigns page in headless Chromium against a real uvicorn, in Chinese and in
English: a supervisor creates a message campaign from a customer filter (the count
previewed first), starts it, watches the progress move as the engine's rows change (the
test moves contacts as the engine would: no Asterisk needed), pauses it and exports the
results (a CSV download, UTF-8 with BOM, Chinese intact). An agent is turned away; the
do-not-call tab adds and lifts a number. Screenshots: test-artifacts/campaigns-<lang>.png."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import FilePayload, Locator, Page, expect

from campaigns.schemas import CampaignIn, CustomerFilter
from campaigns.service import CampaignService
from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from kernel.audit import Actor
from tests.browser.conftest import artifact
from tests.harness.http_app import PASSWORD, add_call, add_user, api_server, api_services
from tests.integration.campaigns.campaigns_support import contact_ids, customers, dial

pytestmark = pytest.mark.browser

WORDS = {
    "zh": {
        "username": "用户名", "password": "密码", "signin": "登录", "new": "新建活动",
        "name": "名称", "text": "通知内容",
        "district": "区域", "arrears": "欠费高于（元）", "preview": "预览人数",
        "previewed": "符合条件 3 户，将添加 3 个号码", "create": "创建活动", "start": "开始",
        "pause": "暂停", "resume": "继续", "export": "导出结果（CSV）", "running": "进行中",
        "paused": "已暂停", "reached": "已接通", "not_allowed": "此页面需要班长或管理员账号",
        "dnc": "免打扰名单", "number": "号码", "add": "加入免打扰", "lift": "解除",
        "campaign": "欠费提醒 12月", "report": "报表", "to": "结束日期", "interval": "间隔",
        "show": "查询",
    },
    "en": {
        "username": "Username", "password": "Password", "signin": "Sign in",
        "new": "New campaign", "name": "Name",
        "text": "Message text", "district": "District",
        "arrears": "Arrears above (yuan)", "preview": "Preview count",
        "previewed": "3 customers match: 3 numbers to add", "create": "Create campaign",
        "start": "Start", "pause": "Pause", "resume": "Resume",
        "export": "Export results (CSV)", "running": "Running", "paused": "Paused",
        "reached": "Reached", "not_allowed": "This page needs a supervisor or admin account",
        "dnc": "Do-not-call list", "number": "Number", "add": "Add to do-not-call",
        "lift": "Lift", "campaign": "Arrears reminder December", "report": "Report",
        "to": "To", "interval": "Interval", "show": "Show",
    },
}  # fmt: skip


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class Center:
    services: Services
    base: str


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with api_services(db_url) as services:
        await add_user(services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
        await add_user(services, "agent01", Role.AGENT, "1001", display_name="王芳")
        await customers(services)
        async with api_server(create_app(services)) as base:
            yield Center(services, base)


async def sign_in(page: Page, words: dict[str, str], username: str) -> None:
    await page.get_by_label(words["username"]).fill(username)
    await page.get_by_label(words["password"]).fill(PASSWORD)
    await page.get_by_role("button", name=words["signin"], exact=True).click()


def count(page: Page, name: str) -> Locator:
    return page.locator(f'#progress [data-count="{name}"] .value')


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_given_customers_when_a_supervisor_runs_a_campaign_then_progress_and_export_show(
    page: Page, center: Center, lang: str
) -> None:
    words = WORDS[lang]
    await page.goto(f"{center.base}/campaigns/")
    if lang == "en":
        await page.get_by_role("button", name="English").click()
    await sign_in(page, words, "boss")

    await page.get_by_role("button", name=words["new"]).click()
    await page.get_by_label(words["name"], exact=True).fill(words["campaign"])
    await page.get_by_label(words["text"]).fill("{name}您好，您的欠费为{arrears}，请及时缴纳。")
    await page.get_by_label(words["district"]).fill("滨江区")
    await page.get_by_label(words["arrears"]).fill("100")
    await page.get_by_role("button", name=words["preview"]).click()
    await expect(page.locator("#preview-result")).to_contain_text(words["previewed"])
    await page.get_by_role("button", name=words["create"]).click()

    await expect(page.locator("#detail-title")).to_have_text(words["campaign"])
    await expect(count(page, "contacts")).to_have_text("3")
    await expect(page.locator("#contacts tr")).to_have_count(3)
    await expect(page.locator("#contacts")).to_contain_text("李强")
    await page.get_by_role("button", name=words["start"], exact=True).click()
    await expect(page.locator("#detail-state")).to_have_text(words["running"])

    campaign_id = int(await page.evaluate("window.hotlineCampaigns.current.id"))
    ids = await contact_ids(center.services, campaign_id)
    now = center.services.clock.now()
    await dial(center.services, campaign_id, ids["13900000001"], "answered", at=now,
               confirmed=True, keys="3")  # fmt: skip
    await dial(center.services, campaign_id, ids["13900000002"], "busy", at=now)
    # The page polls: the engine's rows show without a reload.
    await expect(count(page, "reached")).to_have_text("1")
    await expect(count(page, "confirmed")).to_have_text("1")
    await expect(count(page, "attempts")).to_have_text("2")
    await expect(count(page, "reach_rate")).to_have_text("33.3%")
    await expect(page.locator('#contacts tr[data-state="done"]')).to_contain_text("王芳")

    await page.get_by_role("button", name=words["pause"]).click()
    await expect(page.locator("#detail-state")).to_have_text(words["paused"])
    await expect(page.get_by_role("button", name=words["resume"])).to_be_visible()

    async with page.expect_download() as info:
        await page.get_by_role("button", name=words["export"]).click()
    download = await info.value
    path = await download.path()
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("number,name,state,attempts,last_outcome,keys,confirmed")
    assert len(lines) == 4
    assert "13900000001,王芳,done,1,answered,3,1" in text
    assert "13900000002,李强,pending,1,busy,,0" in text
    await page.screenshot(path=artifact(f"campaigns-{lang}.png"), full_page=True)

    # The report by interval: the attempts the engine made today (center's days).
    await page.get_by_role("button", name=words["report"], exact=True).click()
    tomorrow = (now + dt.timedelta(days=1)).date().isoformat()
    await page.get_by_label(words["to"], exact=True).fill(tomorrow)
    await page.get_by_label(words["interval"]).select_option("month")
    await page.get_by_role("button", name=words["show"]).click()
    row = page.locator("#report tr", has_text=words["campaign"])
    await expect(row).to_have_count(1)
    await expect(row.locator("td")).to_have_text(
        [re.compile(r"^\d{4}-\d{2}-01$"), words["campaign"], "2", "1", "1", "50%"]
    )
    await page.screenshot(path=artifact(f"campaigns-report-{lang}.png"), full_page=True)

    await page.get_by_role("button", name=words["dnc"]).click()
    await page.get_by_label(words["number"], exact=True).fill("+86 139 0000 0003")
    await page.get_by_role("button", name=words["add"]).click()
    row = page.locator("#dnc tr", has_text="13900000003")
    await expect(row).to_have_count(1)
    await row.get_by_role("button", name=f"{words['lift']} 13900000003").click()
    await expect(page.locator("#dnc tr")).to_have_count(0)
    await page.screenshot(path=artifact(f"campaigns-dnc-{lang}.png"), full_page=True)


async def test_given_an_agent_when_signing_in_then_the_page_turns_them_away(
    page: Page, center: Center
) -> None:
    await page.goto(f"{center.base}/campaigns/")
    await sign_in(page, WORDS["zh"], "agent01")
    await expect(page.locator("#signin-error")).to_have_text(WORDS["zh"]["not_allowed"])
    await expect(page.locator("#app")).to_be_hidden()


async def test_at_phone_width_the_page_is_usable_by_keyboard(page: Page, center: Center) -> None:
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{center.base}/campaigns/")
    await page.get_by_label("用户名").fill("boss")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="新建活动")).to_be_visible()
    await page.get_by_role("button", name="新建活动").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("名称", exact=True)).to_be_focused()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await page.screenshot(path=artifact("campaigns-phone.png"), full_page=True)


CSV = "number,name,欠费\n13900000021,孙丽,88.00\n12-34,错号,1\n0086 139 0000 0022,周杰,12.50\n"


async def test_given_a_csv_when_uploaded_on_the_page_then_bad_rows_are_listed_by_line(
    page: Page, center: Center
) -> None:
    await page.goto(f"{center.base}/campaigns/")
    await sign_in(page, WORDS["zh"], "boss")
    await page.get_by_role("button", name="新建活动").click()
    await page.get_by_label("名称", exact=True).fill("燃气安全检查通知")
    await page.get_by_label("通知内容").fill("{name}您好，{欠费}")
    await page.get_by_label("上传 CSV 文件").check()
    await page.get_by_label("CSV 文件（number,name 及其他数据列）").set_input_files(
        files=FilePayload(name="名单.csv", mimeType="text/csv", buffer=CSV.encode("utf-8-sig"))
    )
    await page.get_by_role("button", name="创建活动").click()
    await expect(page.locator("#csv-summary")).to_have_text(
        "共 3 行：添加 2，错误 1，重复 0，免打扰 0"
    )
    await expect(page.locator("#csv-errors li")).to_have_text(
        ["第 3 行 number：not a phone number"]
    )
    await expect(page.locator("#contacts tr")).to_have_count(2)
    await expect(page.locator("#contacts")).to_contain_text("孙丽")
    await expect(page.locator("#contacts")).to_contain_text("13900000022")
    await page.screenshot(path=artifact("campaigns-csv-zh.png"), full_page=True)


async def test_given_a_draft_when_edited_on_the_page_then_its_script_and_contacts_change(
    page: Page, center: Center
) -> None:
    service = CampaignService(center.services)
    actor = Actor(None, "boss", "supervisor")
    body = CampaignIn.model_validate(
        {"name": "抢修回访", "kind": "survey",
         "script": {"questions": [{"key": "rating", "text": "请打分", "min": 1, "max": 5}]}}
    )  # fmt: skip
    draft = await service.create(actor, body)
    await service.add_from_filter(actor, draft["id"], CustomerFilter(district="西湖区"))
    await page.goto(f"{center.base}/campaigns/")
    await sign_in(page, WORDS["zh"], "boss")
    await page.get_by_role("button", name="打开 抢修回访").click()
    await expect(count(page, "contacts")).to_have_text("2")
    await page.get_by_role("button", name="编辑 / 添加联系人").click()
    await expect(page.get_by_label("类型", exact=True)).to_be_disabled()
    questions = page.get_by_label("问题（每行一个：代码|问题|最小|最大）")
    await expect(questions).to_have_value("rating|请打分|1|5")
    await questions.fill("rating|请为抢修服务打分|1|5\nspeed|抢修速度|1|5")
    await page.get_by_label("区域").fill("滨江区")
    await page.get_by_label("客户等级").select_option("A")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#status")).to_have_text(
        "已保存“抢修回访”：添加 1 个联系人（免打扰 0，重复 0）"
    )
    await expect(count(page, "contacts")).to_have_text("3")
    saved = await service.get(draft["id"])
    assert [q["key"] for q in saved["script"]["questions"]] == ["rating", "speed"]


async def test_given_a_reached_contact_when_its_call_is_opened_then_the_call_record_shows(
    page: Page, center: Center
) -> None:
    service = CampaignService(center.services)
    actor = Actor(None, "boss", "supervisor")
    body = CampaignIn.model_validate(
        {"name": "停气通知", "kind": "message", "script": {"text": "{name}您好"}}
    )
    draft = await service.create(actor, body)
    await service.add_from_filter(actor, draft["id"], CustomerFilter(district="西湖区"))
    await service.transition(actor, draft["id"], "start")
    ids = await contact_ids(center.services, draft["id"])
    call = await add_call(center.services, "hlcp-7-1", caller="13900000005")
    now = center.services.clock.now()
    await dial(center.services, draft["id"], ids["13900000005"], "answered", at=now,
               last_call_id=call.id)  # fmt: skip
    await page.goto(f"{center.base}/campaigns/")
    await page.get_by_role("button", name="English").click()
    await sign_in(page, WORDS["en"], "boss")
    await page.get_by_role("button", name="Open 停气通知").click()
    await page.get_by_role("button", name="Call record hlcp-7-1").click()
    view = page.get_by_role("region", name="Call record hlcp-7-1")
    await expect(view).to_contain_text("answered")
    await expect(page.get_by_role("button", name="Close")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(view).to_be_hidden()
