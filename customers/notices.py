"""Outage and maintenance notices per district, with validity windows.

The IVR plays the notices in force for the caller's district (NoticeService.active) and
the agent desktop shows them. A notice is never deleted: it is withdrawn (withdrawn_at)
or simply runs out (valid_to). Every change is audited and published on bus topic
"notice" ({"type": "notice.created|updated|withdrawn", "notice": {...}}) so caches
(the IVR's) can refresh.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from db.models import Notice, NoticeKind
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor, audit_row, write_audit

EDITABLE = ("district", "kind", "title_zh", "title_en", "body_zh", "body_en", "valid_from",
            "valid_to")  # fmt: skip
# Outages first: they are what most callers in that district are calling about.
KIND_ORDER = {NoticeKind.OUTAGE: 0, NoticeKind.MAINTENANCE: 1, NoticeKind.ANNOUNCEMENT: 2}


class InvalidNotice(ValueError):
    """A notice that cannot be written as asked (422 invalid_notice, hotline/http.py)."""


class NoticeNotFound(InvalidNotice):
    def __init__(self, notice_id: int) -> None:
        super().__init__(f"notice {notice_id} not found")


def _check(n: Notice) -> None:
    if not n.title_zh.strip():
        raise InvalidNotice("a notice needs a Chinese title")
    if n.valid_from.tzinfo is None or (n.valid_to is not None and n.valid_to.tzinfo is None):
        raise InvalidNotice("validity times must be aware datetimes")
    if n.valid_to is not None and n.valid_to <= n.valid_from:
        raise InvalidNotice("valid_to must be after valid_from")


def _view(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "district": n.district,
        "kind": NoticeKind(n.kind).value,
        "title_zh": n.title_zh,
        "title_en": n.title_en,
        "valid_from": n.valid_from.isoformat(),
        "valid_to": n.valid_to.isoformat() if n.valid_to else None,
        "withdrawn_at": n.withdrawn_at.isoformat() if n.withdrawn_at else None,
    }


class NoticeService:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._clock = services.clock

    async def create(
        self,
        actor: Actor,
        *,
        title_zh: str,
        valid_from: dt.datetime,
        valid_to: dt.datetime | None = None,
        district: str | None = None,
        kind: NoticeKind | str = NoticeKind.OUTAGE,
        title_en: str = "",
        body_zh: str = "",
        body_en: str = "",
    ) -> Notice:
        notice = Notice(
            district=district or None,
            kind=NoticeKind(kind),
            title_zh=title_zh.strip(),
            title_en=title_en,
            body_zh=body_zh,
            body_en=body_en,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by_id=actor.id,
            created_at=self._clock.now(),
        )
        _check(notice)
        return await self._save(notice, actor, "created", {"title": notice.title_zh})

    async def update(self, notice_id: int, actor: Actor, **changes: Any) -> Notice:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidNotice(f"cannot edit {', '.join(sorted(unknown))}")
        nullable = {"district", "valid_to"}  # None: city-wide / until withdrawn
        if any(v is None for k, v in changes.items() if k not in nullable):
            raise InvalidNotice("only district and valid_to may be set to null")
        notice = await self.get(notice_id)
        for name, value in changes.items():
            setattr(notice, name, NoticeKind(value) if name == "kind" else value)
        _check(notice)
        return await self._save(notice, actor, "updated", {"fields": sorted(changes)})

    async def withdraw(self, notice_id: int, actor: Actor) -> Notice:
        notice = await self.get(notice_id)
        if notice.withdrawn_at is None:
            notice.withdrawn_at = self._clock.now()
            notice = await self._save(notice, actor, "withdrawn", {})
        return notice

    async def get(self, notice_id: int) -> Notice:
        async with self._services.sessions() as session:
            notice = await session.get(Notice, notice_id)
        if notice is None:
            raise NoticeNotFound(notice_id)
        return notice

    async def active(
        self, district: str | None = None, at: dt.datetime | None = None
    ) -> list[Notice]:
        """Notices in force at `at` (default now) for a district, city-wide ones included;
        outages first, then the newest."""
        now = at or self._clock.now()
        stmt = select(Notice).where(
            col(Notice.valid_from) <= now,
            sa.or_(col(Notice.valid_to).is_(None), col(Notice.valid_to) > now),
            col(Notice.withdrawn_at).is_(None),
        )
        if district:
            stmt = stmt.where(
                sa.or_(col(Notice.district).is_(None), col(Notice.district) == district)
            )
        async with self._services.sessions() as session:
            found = list((await session.exec(stmt.limit(200))).all())
        return sorted(found, key=lambda n: (KIND_ORDER[n.kind], -n.valid_from.timestamp()))

    async def listing(self, *, include_past: bool = False, limit: int = 200) -> list[Notice]:
        """For the people who manage notices: current and future ones (and past)."""
        stmt = select(Notice).order_by(col(Notice.valid_from).desc()).limit(limit)
        if not include_past:
            now = self._clock.now()
            stmt = stmt.where(
                sa.or_(col(Notice.valid_to).is_(None), col(Notice.valid_to) > now),
                col(Notice.withdrawn_at).is_(None),
            )
        async with self._services.sessions() as session:
            return list((await session.exec(stmt)).all())

    async def _save(
        self, notice: Notice, actor: Actor, what: str, detail: dict[str, Any]
    ) -> Notice:
        async with self._services.sessions() as session:
            session.add(notice)
            await session.flush()
            row = audit_row(
                actor=actor,
                action=f"notice.{what}",
                object_type="notice",
                object_id=notice.id,
                source="customers.notices",
                detail=detail,
                at=self._clock.now(),
            )
            await write_audit(session, [row])
            await session.commit()
        await self._services.bus.publish(
            topics.NOTICE, {"type": f"notice.{what}", "notice": _view(notice)}
        )
        return notice
