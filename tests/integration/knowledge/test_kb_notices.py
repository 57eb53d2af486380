"""Outage notices per district with validity windows: what the IVR plays at an instant,
withdrawal, edits, and refusals; every change audited and published."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from customers.notices import InvalidNotice, NoticeNotFound, NoticeService
from db.models import AuditLog, NoticeKind
from hotline.services import Services
from kernel import topics
from tests.integration.tickets.support import add_user, local, make_services


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


async def test_given_notices_then_the_ivr_hears_those_in_force_for_its_district(
    services: Services,
) -> None:
    notices = NoticeService(services)
    editor = await add_user(services, "editor01")
    sub = await services.bus.subscribe(topics.NOTICE)
    outage = await notices.create(
        editor,
        district="滨江区",
        kind=NoticeKind.OUTAGE,
        title_zh="滨江区江南大道一带计划停气",
        title_en="Planned gas outage",
        valid_from=local("2026-11-18 08:00"),
        valid_to=local("2026-11-18 18:00"),
    )
    city = await notices.create(
        editor,
        kind="announcement",
        title_zh="营业厅国庆假期安排",
        valid_from=local("2026-11-01 00:00"),
    )
    await notices.create(
        editor,
        district="西湖区",
        title_zh="西湖区管网检修",
        kind=NoticeKind.MAINTENANCE,
        valid_from=local("2026-11-18 08:00"),
    )
    later = await notices.create(
        editor, district="滨江区", title_zh="下周停水", valid_from=local("2026-11-25 08:00")
    )

    at_noon = local("2026-11-18 12:00")
    assert [n.title_zh for n in await notices.active("滨江区", at_noon)] == [
        outage.title_zh,
        city.title_zh,
    ]
    assert [n.title_zh for n in await notices.active("滨江区", local("2026-11-18 18:00"))] == [
        city.title_zh
    ]
    assert len(await notices.active(None, at_noon)) == 3  # every district
    assert [n.title_zh for n in await notices.active("滨江区", local("2026-11-26 09:00"))] == [
        later.title_zh,
        city.title_zh,
    ]
    assert outage.id is not None
    await notices.withdraw(outage.id, editor)
    assert [n.title_zh for n in await notices.active("滨江区", at_noon)] == [city.title_zh]
    assert later.id is not None
    moved = await notices.update(later.id, editor, valid_from=local("2026-11-18 06:00"))
    assert moved.valid_from == local("2026-11-18 06:00")

    published = [(await sub.get(timeout=1)).data["type"] for _ in range(6)]
    assert published == ["notice.created"] * 4 + ["notice.withdrawn", "notice.updated"]
    async with services.sessions() as s:
        audit = (
            await s.exec(select(AuditLog.action).where(AuditLog.object_type == "notice"))
        ).all()
    assert sorted(audit) == sorted(["notice.created"] * 4 + ["notice.withdrawn", "notice.updated"])


async def test_given_bad_notices_then_they_are_refused(services: Services) -> None:
    notices = NoticeService(services)
    editor = await add_user(services, "editor01")
    start = local("2026-11-18 08:00")
    with pytest.raises(InvalidNotice, match="after"):
        await notices.create(editor, title_zh="x", valid_from=start, valid_to=start)
    with pytest.raises(InvalidNotice, match="title"):
        await notices.create(editor, title_zh=" ", valid_from=start)
    with pytest.raises(InvalidNotice, match="aware"):
        await notices.create(editor, title_zh="x", valid_from=dt.datetime(2026, 11, 18))
    with pytest.raises(NoticeNotFound):
        await notices.withdraw(999, editor)
    assert await notices.listing(include_past=True) == []
