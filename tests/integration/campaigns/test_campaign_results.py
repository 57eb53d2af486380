"""Results on SQLite and PostgreSQL, checked against rows the test made as the engine and
the call flow would: per contact (attempts, outcome, keys, confirmed, agent, ticket, the
call's link), per campaign (reach rate, confirmation rate, opt-outs, attempts by outcome,
survey averages per question), the CSV export (UTF-8 with BOM, Chinese intact), the report
per day, ISO week and month in the center's time zone."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from db.models import Role
from tests.harness.http_app import add_call, add_user
from tests.integration.campaigns.campaigns_support import (
    AUDIT,
    Center,
    center_of,
    contact_ids,
    create,
    customers,
    dial,
)

# 2026-12-06 is a Sunday: 23:30 in Shanghai is 15:30 UTC; the next attempt is Monday.
SUNDAY = dt.datetime(2026, 12, 6, 15, 30, tzinfo=dt.UTC)
MONDAY = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
JANUARY = dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC)
SURVEY = {
    "questions": [
        {"key": "rating", "text": "请为服务打分", "min": 1, "max": 5},
        {"key": "speed", "text": "抢修速度", "min": 1, "max": 5},
    ],
    "thanks": "谢谢",
}


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with center_of(db_url) as c:
        await customers(c.services)
        yield c


async def test_given_a_message_campaign_with_outcomes_then_results_csv_and_report_match(
    center: Center,
) -> None:
    c = center
    agent = await add_user(c.services, "agent01", Role.AGENT, "1001", display_name="王芳坐席")
    cid = (await create(c))["id"]
    await c.post(f"/api/campaigns/{cid}/contacts/filter", {"filter": {"district": "滨江区"}})
    await c.post(f"/api/campaigns/{cid}/start")
    ids = await contact_ids(c.services, cid)
    call = await add_call(c.services, "hlcp-call-1", caller="13900000001")
    # 王芳: busy on Sunday night, answered and confirmed on Monday (an agent, a call).
    await dial(c.services, cid, ids["13900000001"], "busy", at=SUNDAY)
    await dial(c.services, cid, ids["13900000001"], "answered", at=MONDAY, confirmed=True,
               keys="13", agent_id=agent.id, last_call_id=call.id)  # fmt: skip
    # 李强: answered, pressed 9: opted out.
    await dial(c.services, cid, ids["13900000002"], "answered", at=MONDAY, keys="9",
               opted_out=True, state="opted_out")  # fmt: skip
    # 张伟: no answer twice, then failed (attempts exhausted), in January.
    await dial(c.services, cid, ids["13900000003"], "no_answer", at=MONDAY)
    await dial(c.services, cid, ids["13900000003"], "machine", at=JANUARY, state="failed")
    # 赵敏: not called yet.

    r = await c.get(f"/api/campaigns/{cid}/results")
    assert r.status_code == 200, r.text
    res = r.json()
    assert (res["contacts"], res["reached"], res["confirmed"], res["opted_out"]) == (4, 2, 1, 1)
    assert res["reach_rate"] == 0.5
    assert res["confirmation_rate"] == 0.5
    assert res["attempts"] == 5
    assert res["attempts_by_outcome"] == {"busy": 1, "answered": 2, "no_answer": 1, "machine": 1}
    assert res["states"] == {"done": 1, "opted_out": 1, "failed": 1, "pending": 1}
    assert res["outcomes"] == {"answered": 2, "machine": 1}
    assert res["survey"] is None

    rows = {x["number"]: x for x in (await c.get(f"/api/campaigns/{cid}/contacts")).json()}
    wang = rows["13900000001"]
    assert (wang["attempts"], wang["last_outcome"], wang["keys"]) == (2, "answered", "13")
    assert (wang["agent_name"], wang["call_linkedid"]) == ("王芳坐席", "hlcp-call-1")
    assert wang["call_url"] == "/api/calls/hlcp-call-1"
    linked = await c.get(wang["call_url"])
    assert linked.status_code == 200, linked.text
    assert [x["number"] for x in (await c.get(f"/api/campaigns/{cid}/contacts?state=failed"))
            .json()] == ["13900000003"]  # fmt: skip

    r = await c.get(f"/api/campaigns/{cid}/results.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [t["name"] for t in table] == ["王芳", "李强", "张伟", "赵敏"]
    assert table[0] == {
        "number": "13900000001", "name": "王芳", "state": "done", "attempts": "2",
        "last_outcome": "answered", "keys": "13", "confirmed": "1", "opted_out": "0",
        "agent": "王芳坐席", "ticket": "", "call": "hlcp-call-1", "answers": "",
    }  # fmt: skip
    assert table[1]["opted_out"] == "1"
    async with c.services.engine.connect() as conn:
        exported = (
            await conn.execute(
                sa.select(sa.func.count()).where(AUDIT.c.action == "campaign.export")
            )
        ).scalar_one()
    assert exported == 1

    def report(interval: str) -> str:
        return (f"/api/campaigns/report?first=2026-12-01&last=2027-01-31&interval={interval}"
                f"&campaign_id={cid}")  # fmt: skip

    days = (await c.get(report("day"))).json()["rows"]
    assert [(d["start"], d["attempts"], d["answered"], d["confirmed"]) for d in days] == [
        ("2026-12-06", 1, 0, 0), ("2026-12-07", 3, 2, 1), ("2027-01-04", 1, 0, 0),
    ]  # fmt: skip
    weeks = (await c.get(report("week"))).json()["rows"]
    assert [(w["start"], w["attempts"], w["answered"]) for w in weeks] == [
        ("2026-11-30", 1, 0), ("2026-12-07", 3, 2), ("2027-01-04", 1, 0),
    ]  # fmt: skip
    months = (await c.get(report("month"))).json()["rows"]
    assert [(m["start"], m["attempts"], m["answered"], m["confirmed"]) for m in months] == [
        ("2026-12-01", 4, 2, 1), ("2027-01-01", 1, 0, 0),
    ]  # fmt: skip
    assert months[0]["campaign"] == "欠费提醒 12月"
    r = await c.get(report("month") + "&format=csv")
    assert r.content.decode("utf-8-sig").splitlines()[1] == f"2026-12-01,{cid},欠费提醒 12月,4,2,1"
    r = await c.get("/api/campaigns/report?first=2026-12-02&last=2026-12-01")
    assert r.status_code == 422


async def test_given_a_survey_when_answered_then_averages_per_question(center: Center) -> None:
    c = center
    cid = (await create(c, {"name": "抢修回访", "kind": "survey", "script": SURVEY}))["id"]
    await c.post(f"/api/campaigns/{cid}/contacts/filter", {"filter": {"district": "西湖区"}})
    await c.post(f"/api/campaigns/{cid}/start")
    ids = await contact_ids(c.services, cid)
    await dial(c.services, cid, ids["13900000005"], "answered", at=MONDAY,
               answers={"rating": 5, "speed": 3})  # fmt: skip
    await dial(c.services, cid, ids["13900000006"], "answered", at=MONDAY,
               answers={"rating": 4, "hung_up_at": "speed"})  # fmt: skip
    res = (await c.get(f"/api/campaigns/{cid}/results")).json()
    assert res["survey"] == [
        {"key": "rating", "text": "请为服务打分", "count": 2, "average": 4.5},
        {"key": "speed", "text": "抢修速度", "count": 1, "average": 3.0},
    ]
    table = (await c.get(f"/api/campaigns/{cid}/results.csv")).content.decode("utf-8-sig")
    header, first, second = table.strip().splitlines()
    assert header.endswith(",rating,speed")
    assert first.endswith(",5,3")
    assert second.endswith(",4,")
