"""The audit log viewer: who did what, filtered and paginated, and the same rows as CSV.

Filters (all optional, combined with AND): actor (a username, or a user id), action
prefix ("user." finds user.create, user.disable, ...), object type and id, a time range
[since, until). Newest first. The CSV is UTF-8 with a byte-order mark, so Excel opens
the Chinese text as it is; it is written in pages and capped at EXPORT_MAX rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hotline.services import Services
from kernel.audit import AUDIT

EXPORT_MAX = 100_000
EXPORT_PAGE = 2_000
CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "source",
    "detail",
)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # a prefix
    object_type: str | None = None
    object_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        c = AUDIT.c
        out: list[sa.ColumnElement[bool]] = []
        if self.actor:
            who = c.actor_name == self.actor
            if self.actor.isdigit() and len(self.actor) < 10:
                who = sa.or_(who, c.actor_id == int(self.actor))
            out.append(who)
        if self.action:
            out.append(c.action.startswith(self.action, autoescape=True))
        if self.object_type:
            out.append(c.object_type == self.object_type)
        if self.object_id:
            out.append(c.object_id == self.object_id)
        if self.since is not None:
            out.append(c.at >= self.since)
        if self.until is not None:
            out.append(c.at < self.until)
        return out


class AuditLogViewer:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def page(self, f: AuditFilter, *, offset: int, limit: int) -> tuple[int, list[Any]]:
        where = f.where()
        count = sa.select(sa.func.count()).select_from(AUDIT).where(*where)
        rows = (
            sa.select(AUDIT)
            .where(*where)
            .order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        async with self._services.engine.connect() as conn:
            total = int(await conn.scalar(count) or 0)
            found = list((await conn.execute(rows)).mappings().all())
        return total, found

    async def csv_chunks(self, f: AuditFilter) -> AsyncIterator[bytes]:
        """The CSV in chunks of EXPORT_PAGE rows (BOM first)."""
        yield "\ufeff".encode()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        sent, last_key = 0, None
        c = AUDIT.c
        while sent < EXPORT_MAX:
            stmt = sa.select(AUDIT).where(*f.where())
            if last_key is not None:  # keyset pagination: newest first by (at, id)
                at, row_id = last_key
                stmt = stmt.where(sa.or_(c.at < at, sa.and_(c.at == at, c.id < row_id)))
            stmt = stmt.order_by(c.at.desc(), c.id.desc()).limit(
                min(EXPORT_PAGE, EXPORT_MAX - sent)
            )
            async with self._services.engine.connect() as conn:
                rows = list((await conn.execute(stmt)).mappings().all())
            for r in rows:
                writer.writerow(_csv_row(r))
            sent += len(rows)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < EXPORT_PAGE:
                return
            last_key = (rows[-1]["at"], rows[-1]["id"])


def _csv_row(r: Any) -> list[str]:
    at: dt.datetime = r["at"]
    return [
        str(r["id"]),
        at.astimezone(dt.UTC).isoformat(),
        "" if r["actor_id"] is None else str(r["actor_id"]),
        _cell(r["actor_name"]),
        _cell(r["actor_role"] or ""),
        _cell(r["action"]),
        _cell(r["object_type"]),
        _cell(r["object_id"]),
        _cell(r["source"] or ""),
        _cell(json.dumps(r["detail"] or {}, ensure_ascii=False, default=str)),
    ]


def _cell(value: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
