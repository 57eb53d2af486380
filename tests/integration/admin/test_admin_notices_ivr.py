"""Outage notices edited through the API the admin page uses reach the IVR at its next
call, without a restart: the IVR's directory reads notices from the database per query
(ivr/directory.py DbDirectory.notices -> customers/notices.py NoticeService.active)."""

from __future__ import annotations

import datetime as dt

from ivr.directory import DbDirectory
from ivr.driver import CallContext
from ivr.script import Query, QueryKind
from tests.integration.admin.support import admin_app

NOON = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BINJIANG = Query(QueryKind.NOTICES, (("district", "滨江区"), ("language", "zh")))


async def test_given_the_ivr_running_when_an_admin_publishes_then_withdraws_a_notice(
    db_url: str,
) -> None:
    async with admin_app(db_url, NOON) as app:
        ivr = DbDirectory(app.services)  # built once, as the running IVR holds it
        call = CallContext(call_id="1.1", caller_number="13900000000")
        assert await ivr.answer(BINJIANG, call) == ()
        notice = {
            "title_zh": "滨江区江南大道计划停气",
            "title_en": "Planned gas outage",
            "body_zh": "3月1日10时至16时停气检修。",
            "district": "滨江区",
            "kind": "outage",
            "valid_from": (NOON - dt.timedelta(hours=2)).isoformat(),
            "valid_to": (NOON + dt.timedelta(hours=4)).isoformat(),
        }
        r = await app.client.post("/api/notices", json=notice, headers=app.admin)
        assert r.status_code == 201, r.text
        heard = await ivr.answer(BINJIANG, call)
        assert isinstance(heard, tuple)
        assert [n.title for n in heard] == ["滨江区江南大道计划停气"]
        other = Query(QueryKind.NOTICES, (("district", "西湖区"), ("language", "zh")))
        assert await ivr.answer(other, call) == ()

        r = await app.client.post(f"/api/notices/{r.json()['id']}/withdraw", headers=app.admin)
        assert r.status_code == 200
        assert await ivr.answer(BINJIANG, call) == ()
