"""Business-calendar edits through the API change the IVR's open/closed answer at its next
call, without a restart (ivr/directory.py's LiveCalendar), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from ivr import directory
from ivr.directory import DbDirectory, ReaderDirectory
from ivr.driver import CallContext
from ivr.script import Query, QueryKind
from tests.integration.admin.support import admin_app

# A Monday of next year, 10:00 in Shanghai: open by config.yaml (mon 08:00-20:00).
MONDAY_10 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _call() -> CallContext:
    return CallContext(call_id="1.1", caller_number="13900000000")


async def test_given_the_ivr_running_when_an_admin_makes_a_day_a_holiday_then_it_answers_closed(
    db_url: str,
) -> None:
    async with admin_app(db_url, MONDAY_10) as app:
        ivr = DbDirectory(app.services)  # built once, as the running IVR holds it
        is_open = Query(QueryKind.IS_OPEN)
        assert await ivr.answer(is_open, _call()) is True

        holiday = {"kind": "holiday", "note": "清明调休"}
        r = await app.client.put(
            "/api/admin/calendar/days/2027-03-01", json=holiday, headers=app.admin
        )
        assert r.status_code == 200, r.text
        assert await ivr.answer(is_open, _call()) is False
        r = await app.client.get(
            "/api/admin/calendar/open",
            params={"at": MONDAY_10.isoformat()},
            headers=app.admin,
        )
        assert r.json()["open"] is False
        assert r.json()["holiday"] is True

        r = await app.client.delete("/api/admin/calendar/days/2027-03-01", headers=app.admin)
        assert r.status_code == 204
        assert await ivr.answer(is_open, _call()) is True


async def test_given_the_fastagi_directory_when_a_day_becomes_a_holiday_then_the_next_call_is_closed(
    db_url: str,
) -> None:
    """The FastAGI server's directory reads the calendar's version with each call's
    caller-ID lookup (one round trip on PostgreSQL) and uses it for that call's hours
    check: an edit made between two calls is seen by the second."""
    async with admin_app(db_url, MONDAY_10) as app:
        ivr = ReaderDirectory(app.services)
        is_open = Query(QueryKind.IS_OPEN)
        try:
            for n, (edit, expected) in enumerate(
                ((None, True), ("put", False), ("delete", True), (None, True))
            ):
                if edit == "put":
                    r = await app.client.put(
                        "/api/admin/calendar/days/2027-03-01",
                        json={"kind": "holiday", "note": "国庆"},
                        headers=app.admin,
                    )
                    assert r.status_code == 200, r.text
                elif edit == "delete":
                    r = await app.client.delete(
                        "/api/admin/calendar/days/2027-03-01", headers=app.admin
                    )
                    assert r.status_code == 204
                call = CallContext(call_id=f"1700000000.{n}", caller_number="13900000000")
                by_phone = Query(QueryKind.CUSTOMER_BY_PHONE, (("number", call.caller_number),))
                assert await ivr.answer(by_phone, call) is None  # nobody has that number
                assert await ivr.answer(is_open, call) is expected, (n, edit)
        finally:
            await ivr.reader.close()


async def test_given_a_version_read_long_before_the_hours_check_then_it_is_read_again(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A calendar version kept from a caller-ID lookup too long ago (here: any age) is
    not used: a holiday added since is seen, though no other call read the new version."""
    monkeypatch.setattr(directory, "CALL_VERSION_SECONDS", 0.0)
    async with admin_app(db_url, MONDAY_10) as app:
        ivr = ReaderDirectory(app.services)
        is_open = Query(QueryKind.IS_OPEN)
        try:
            first, late = (
                CallContext(call_id=f"1.{n}", caller_number="13900000000") for n in (1, 2)
            )
            by_phone = Query(QueryKind.CUSTOMER_BY_PHONE, (("number", "13900000000"),))
            for call in (first, late):
                await ivr.answer(by_phone, call)
            assert await ivr.answer(is_open, first) is True  # the calendar as it was
            r = await app.client.put(
                "/api/admin/calendar/days/2027-03-01",
                json={"kind": "holiday", "note": "春节"},
                headers=app.admin,
            )
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.01)
            assert await ivr.answer(is_open, late) is False
        finally:
            await ivr.reader.close()


async def test_given_next_years_hours_when_set_then_the_ivr_follows_them_from_that_date(
    db_url: str,
) -> None:
    # 19:00: open by config (to 20:00)
    async with admin_app(db_url, MONDAY_10 + dt.timedelta(hours=9)) as app:
        ivr = DbDirectory(app.services)
        is_open = Query(QueryKind.IS_OPEN)
        assert await ivr.answer(is_open, _call()) is True
        weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        r = await app.client.put(
            "/api/admin/calendar/weeks/2027-01-01",
            json={"weekly": weekly, "note": "2027 年作息"},
            headers=app.admin,
        )
        assert r.status_code == 200, r.text
        assert await ivr.answer(is_open, _call()) is False

        cal = (await app.client.get("/api/admin/calendar", headers=app.admin)).json()
        assert cal["weeks"][0]["weekly"]["mon"] == [["09:00", "18:00"]]
        assert cal["config"]["weekly"]["mon"] == [["08:00", "20:00"]]
        async with app.services.engine.connect() as conn:
            actions = (
                await conn.execute(sa.text("SELECT action FROM audit_log WHERE actor_name='boss'"))
            ).scalars()
            assert "calendar.week_set" in list(actions)


async def test_given_bad_calendar_edits_then_clear_errors(db_url: str) -> None:
    async with admin_app(db_url, MONDAY_10) as app:
        overlap = {"kind": "working_day", "ranges": [["08:00", "12:00"], ["11:00", "13:00"]]}
        r = await app.client.put(
            "/api/admin/calendar/days/2027-02-06", json=overlap, headers=app.admin
        )
        assert r.status_code == 422
        assert "overlap" in r.json()["message"]
        backwards = {"kind": "working_day", "ranges": [["12:00", "08:00"]]}
        r = await app.client.put(
            "/api/admin/calendar/days/2027-02-06", json=backwards, headers=app.admin
        )
        assert r.status_code == 422
        r = await app.client.put(
            "/api/admin/calendar/days/2099-02-06", json={"kind": "holiday"}, headers=app.admin
        )
        assert r.status_code == 422
        assert "out of range" in r.json()["message"]
        closed: dict[str, Any] = {"weekly": {"mon": []}}
        r = await app.client.put(
            "/api/admin/calendar/weeks/2027-01-01", json=closed, headers=app.admin
        )
        assert r.status_code == 422
        r = await app.client.delete("/api/admin/calendar/days/2027-02-07", headers=app.admin)
        assert r.status_code == 404
