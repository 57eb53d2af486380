"""Contact lists on SQLite and PostgreSQL: from a customer filter (district, tier, arrears,
category of an open ticket; the primary phone; the contact's data with the district's
outage window), with a count preview first; from a CSV (bad rows by line with a reason,
good rows added, numbers normalized, Chinese intact, duplicates skipped); numbers on the
do-not-call list kept as opted_out and counted; a lifted entry no longer blocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from db.models import Notice, NoticeKind, Ticket, TicketState
from tests.integration.campaigns.campaigns_support import Center, center_of, create, customers


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with center_of(db_url) as c:
        await customers(c.services)
        yield c


async def contacts(c: Center, cid: int) -> dict[str, dict[str, object]]:
    r = await c.get(f"/api/campaigns/{cid}/contacts")
    assert r.status_code == 200, r.text
    return {x["number"]: x for x in r.json()}


async def test_given_a_filter_when_previewed_and_added_then_the_count_and_data_match(
    center: Center,
) -> None:
    c = center
    now = c.services.clock.now()
    async with c.services.sessions() as s:
        s.add(Notice(district="滨江区", kind=NoticeKind.OUTAGE, title_zh="计划停气",
                     valid_from=now - dt.timedelta(hours=1),
                     valid_to=now + dt.timedelta(hours=7)))  # fmt: skip
        await s.commit()
    flt = {"filter": {"district": "滨江区", "arrears_above": "100"}}
    before = (await c.post("/api/campaigns/preview", flt)).json()
    assert (before["customers"], before["to_add"]) == (3, 3)
    assert (await c.get("/api/campaigns")).json() == []  # counting creates nothing
    cid = (await create(c))["id"]
    preview = (await c.post(f"/api/campaigns/{cid}/contacts/preview", flt)).json()
    assert preview == {"customers": 3, "without_phone": 0, "duplicates": 0, "do_not_call": 0,
                       "to_add": 3, "to_call": 3}  # fmt: skip
    assert await contacts(c, cid) == {}  # a preview adds nothing
    added = (await c.post(f"/api/campaigns/{cid}/contacts/filter", flt)).json()
    assert (added["added"], added["do_not_call"], added["duplicates"]) == (3, 0, 0)
    rows = await contacts(c, cid)
    assert set(rows) == {"13900000001", "13900000002", "13900000003"}
    wang = rows["13900000001"]
    assert wang["name"] == "王芳"
    assert wang["state"] == "pending"
    data = wang["data"]
    assert isinstance(data, dict)
    assert (data["account"], data["arrears"], data["district"]) == ("1001", "128.50", "滨江区")
    assert data["outage_window"]  # the district's active outage notice
    # The same filter again: every number is already in the campaign.
    again = (await c.post(f"/api/campaigns/{cid}/contacts/filter", flt)).json()
    assert (again["added"], again["duplicates"]) == (0, 3)

    tier = (await c.post(f"/api/campaigns/{cid}/contacts/preview",
                         {"filter": {"tier": "A"}})).json()  # fmt: skip
    assert (tier["customers"], tier["to_add"], tier["duplicates"]) == (1, 0, 1)


async def test_given_an_open_ticket_category_when_filtered_then_only_its_customers(
    center: Center,
) -> None:
    c = center
    async with c.services.sessions() as s:
        from sqlmodel import select

        from db.models import Customer

        li = (await s.exec(select(Customer).where(Customer.account_number == "1002"))).one()
        zhang = (await s.exec(select(Customer).where(Customer.account_number == "1003"))).one()
        s.add(Ticket(number="GD1", category="repair", customer_id=li.id, subject="漏气",
                     description="", state=TicketState.NEW, department="repair"))  # fmt: skip
        s.add(Ticket(number="GD2", category="repair", customer_id=zhang.id, subject="已修",
                     description="", state=TicketState.CLOSED, department="repair"))  # fmt: skip
        await s.commit()
    cid = (await create(c))["id"]
    flt = {"filter": {"ticket_category": "repair"}}
    added = (await c.post(f"/api/campaigns/{cid}/contacts/filter", flt)).json()
    assert added["added"] == 1
    assert set(await contacts(c, cid)) == {"13900000002"}


CSV = (
    "number,name,金额,meter\n"
    "+86 139 0000 0011,孙丽,88.00,M-1\n"
    "12-34,错号,1,M-2\n"
    ",无号码,1,M-3\n"
    "13900000012,周杰,12.5,M-4\n"
    "0086 13900000011,孙丽（重复）,88.00,M-5\n"
    "\n"
    "13900000013,吴刚,7,M-6\n"
)


async def test_given_a_csv_with_bad_rows_when_uploaded_then_good_rows_are_added(
    center: Center,
) -> None:
    c = center
    r = await c.post("/api/do-not-call", {"number": "13900000013", "note": "客户要求"})
    assert r.status_code == 201, r.text
    cid = (await create(c))["id"]
    r = await c.client.post(
        f"/api/campaigns/{cid}/contacts/csv", content=CSV.encode("utf-8-sig"),
        headers={**c.h(), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["rows"], report["added"], report["failed"]) == (6, 3, 2)
    assert (report["duplicates"], report["do_not_call"]) == (1, 1)
    assert report["columns"] == ["金额", "meter"]
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "number"), (4, "number")]
    assert "not a phone number" in report["errors"][0]["message"]
    rows = await contacts(c, cid)
    assert set(rows) == {"13900000011", "13900000012", "13900000013"}
    assert rows["13900000011"]["name"] == "孙丽"
    assert rows["13900000011"]["data"] == {"金额": "88.00", "meter": "M-1", "name": "孙丽"}
    blocked = rows["13900000013"]
    assert (blocked["state"], blocked["opted_out"]) == ("opted_out", True)

    # GB18030 (what Chinese spreadsheet exports often are) reads the same.
    gb = "电话,姓名\n13900000014,郑爽\n".encode("gb18030")
    r = await c.client.post(f"/api/campaigns/{cid}/contacts/csv", content=gb, headers=c.h())
    assert r.json()["added"] == 1
    assert (await contacts(c, cid))["13900000014"]["name"] == "郑爽"

    r = await c.client.post(f"/api/campaigns/{cid}/contacts/csv", content=b"a,b\n1,2\n",
                            headers=c.h())  # fmt: skip
    assert r.status_code == 422
    assert "number" in r.json()["message"]


async def test_given_the_do_not_call_list_when_an_entry_is_lifted_then_it_stays_listed(
    center: Center,
) -> None:
    c = center
    entry = (await c.post("/api/do-not-call", {"number": "139-0000-0001"})).json()
    assert entry["number"] == "13900000001"
    assert entry["reason"] == "manual"
    cid = (await create(c))["id"]
    flt = {"filter": {"district": "滨江区"}}
    preview = (await c.post(f"/api/campaigns/{cid}/contacts/preview", flt)).json()
    assert (preview["to_add"], preview["do_not_call"], preview["to_call"]) == (4, 1, 3)
    r = await c.post(f"/api/do-not-call/{entry['id']}/lift")
    assert r.status_code == 200
    assert r.json()["lifted_at"]
    assert (await c.post(f"/api/do-not-call/{entry['id']}/lift")).status_code == 409
    assert (await c.get("/api/do-not-call")).json() == []
    listed = (await c.get("/api/do-not-call?include_lifted=true")).json()
    assert [x["id"] for x in listed] == [entry["id"]]
    preview = (await c.post(f"/api/campaigns/{cid}/contacts/preview", flt)).json()
    assert preview["do_not_call"] == 0
