"""The campaigns API through create_app on SQLite and PostgreSQL: create with a script
checked per kind, the state machine (draft -> running <-> paused -> stopped, illegal moves
409), edits only while draft or paused, every action audited and published on the bus
(campaign.changed) so the engine wakes, stopping cancels the contacts not done."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from kernel import topics
from tests.integration.campaigns.campaigns_support import (
    Center,
    audit_actions,
    center_of,
    contact_ids,
    create,
    customers,
    dial,
)


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with center_of(db_url) as c:
        await customers(c.services)
        yield c


async def test_given_a_message_campaign_when_run_through_its_states_then_each_move_is_checked(
    center: Center,
) -> None:
    c = center
    events = await c.services.bus.subscribe(topics.CAMPAIGN)
    campaign = await create(c, {"rules": {"max_attempts": 2, "retry_minutes": {"busy": 5}}})
    cid = campaign["id"]
    assert campaign["state"] == "draft"
    assert campaign["rules"] == {"max_attempts": 2, "retry_minutes": {"busy": 5.0}}
    assert campaign["script"]["text"].startswith("{name}您好")

    r = await c.post(f"/api/campaigns/{cid}/start")
    assert r.status_code == 409
    assert "no contacts" in r.json()["message"]
    r = await c.post(f"/api/campaigns/{cid}/pause")
    assert (r.status_code, r.json()["error"]) == (409, "illegal_transition")

    r = await c.post(f"/api/campaigns/{cid}/contacts/filter", {"filter": {"district": "滨江区"}})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 4

    r = await c.client.patch(
        f"/api/campaigns/{cid}", json={"name": "欠费提醒（改）"}, headers=c.h()
    )
    assert r.status_code == 200
    assert r.json()["name"] == "欠费提醒（改）"

    r = await c.post(f"/api/campaigns/{cid}/start")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "running"
    assert r.json()["started_at"]
    r = await c.client.patch(f"/api/campaigns/{cid}", json={"name": "x"}, headers=c.h())
    assert r.status_code == 409
    r = await c.post(f"/api/campaigns/{cid}/start")
    assert r.status_code == 409
    r = await c.post(f"/api/campaigns/{cid}/resume")
    assert r.status_code == 409

    ids = await contact_ids(c.services, cid)
    now = c.services.clock.now()
    await dial(c.services, cid, ids["13900000001"], "answered", at=now, confirmed=True)
    await dial(c.services, cid, ids["13900000002"], "busy", at=now)

    assert (await c.post(f"/api/campaigns/{cid}/pause")).json()["state"] == "paused"
    r = await c.client.patch(
        f"/api/campaigns/{cid}", json={"script": {"text": "停电通知：{outage_window}"}},
        headers=c.h(),
    )  # fmt: skip
    assert r.status_code == 200
    assert r.json()["script"]["text"] == "停电通知：{outage_window}"
    assert (await c.post(f"/api/campaigns/{cid}/resume")).json()["state"] == "running"
    stopped = (await c.post(f"/api/campaigns/{cid}/stop")).json()
    assert stopped["state"] == "stopped"
    assert stopped["ended_at"]
    # The reached contact stays done; the three not done are cancelled, none deleted.
    assert stopped["progress"]["states"] == {"done": 1, "cancelled": 3}
    assert stopped["progress"]["contacts"] == 4
    r = await c.post(f"/api/campaigns/{cid}/resume")
    assert r.status_code == 409
    assert "stopped" in r.json()["message"]

    assert await audit_actions(c.services, cid) == [
        "campaign.create", "campaign.contacts_added", "campaign.edit", "campaign.start",
        "campaign.pause", "campaign.edit", "campaign.resume", "campaign.stop",
    ]  # fmt: skip
    states = [(await events.get(timeout=5)).data for _ in range(5)]
    assert [(e["type"], e["campaign_id"], e["state"]) for e in states] == [
        ("campaign.changed", cid, s) for s in ("draft", "running", "paused", "running", "stopped")
    ]
    await events.close()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "message", "script": {}}, "text"),
        ({"kind": "survey", "script": {"questions": []}}, "questions"),
        (
            {"kind": "survey", "script": {"questions": [{"key": "q", "text": "满意吗", "min": 5,
                                                         "max": 1}]}},
            "above max",
        ),
        (
            {"kind": "appointment", "script": {"slots": [{"key": "1", "label": "上午",
             "date": "2026-12-08"}], "category": "no_such_category"}},
            "unknown ticket category",
        ),
        ({"kind": "message", "script": {"text": "hi"}, "sms_fallback": True}, "sms_text"),
    ],
)  # fmt: skip
async def test_given_a_script_that_does_not_fit_its_kind_when_created_then_422_says_why(
    center: Center, body: dict[str, object], words: str
) -> None:
    r = await center.post("/api/campaigns", {"name": "测试", **body})
    assert r.status_code == 422, r.text
    assert words in r.json()["message"]


async def test_given_a_survey_and_an_agent_campaign_when_created_then_their_fields_are_kept(
    center: Center,
) -> None:
    survey = {"questions": [{"key": "rating", "text": "请为本次服务打分", "min": 1, "max": 5}],
              "thanks": "谢谢"}  # fmt: skip
    s = await create(center, {"name": "满意度回访", "kind": "survey", "script": survey})
    assert s["script"]["questions"][0]["key"] == "rating"
    assert s["dial_mode"] is None
    a = await create(
        center,
        {"name": "大客户回访", "kind": "agent", "script": {"notes": "核实用气量"},
         "skill": "billing", "caller_id": "057195777"},
    )  # fmt: skip
    assert (a["dial_mode"], a["skill"], a["caller_id"]) == ("preview", "billing", "057195777")
    p = await create(center, {"kind": "agent", "dial_mode": "progressive", "script": {}})
    assert p["dial_mode"] == "progressive"
    listing = (await center.get("/api/campaigns")).json()
    assert [x["name"] for x in listing][:3] == ["欠费提醒 12月", "大客户回访", "满意度回访"]
    assert (await center.get("/api/campaigns/999999")).status_code == 404


async def test_given_a_paused_campaign_when_the_engine_completes_it_then_no_move_applies(
    center: Center,
) -> None:
    c = center
    cid = (await create(c))["id"]
    await c.post(f"/api/campaigns/{cid}/contacts/filter", {"filter": {"district": "西湖区"}})
    await c.post(f"/api/campaigns/{cid}/start")
    async with c.services.engine.begin() as conn:
        from campaigns.store import CAMPAIGNS

        await conn.execute(
            CAMPAIGNS.update()
            .where(CAMPAIGNS.c.id == cid)
            .values(state="completed", ended_at=dt.datetime.now(dt.UTC))
        )
    for action in ("pause", "resume", "stop", "start"):
        r = await c.post(f"/api/campaigns/{cid}/{action}")
        assert r.status_code == 409, (action, r.text)
