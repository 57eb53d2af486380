"""What the CTI bridge asks the call log on resync (cti/cel/recovery.py's CallHistory),
over the same database the writer fills. Reads are bounded to one pbx_node."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.mapping import snapshot_from_row
from db.models import metadata
from kernel.calls import Disposition
from kernel.clock import from_timestamp

CALLS: sa.Table = metadata.tables["calls"]
CURSORS: sa.Table = metadata.tables["cel_cursors"]
_CHUNK = 500  # linkedids per IN (...): well under every backend's parameter limit


class SqlCallHistory:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, pbx_node: str = "default"
    ) -> None:
        self._sessions = sessions
        self._node = pbx_node

    async def open_calls(self, started_before: float) -> dict[str, dict[str, Any]]:
        """Rows still in progress that began before `started_before` (a row created
        after the resync's snapshot belongs to a call the snapshot could not show)."""
        query = sa.select(CALLS).where(
            CALLS.c.pbx_node == self._node,
            CALLS.c.disposition == Disposition.IN_PROGRESS.value,
            CALLS.c.started_at < from_timestamp(started_before),
        )
        return await self._snapshots(query)

    async def calls(self, linkedids: Collection[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(set(linkedids))
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), _CHUNK):
            query = sa.select(CALLS).where(
                CALLS.c.pbx_node == self._node, CALLS.c.linkedid.in_(ids[i : i + _CHUNK])
            )
            found.update(await self._snapshots(query))
        return found

    async def logged(self, linkedids: Collection[str]) -> set[str]:
        ids = sorted(set(linkedids))
        found: set[str] = set()
        async with self._sessions() as session:
            conn = await session.connection()
            for i in range(0, len(ids), _CHUNK):
                rows = await conn.execute(
                    sa.select(CALLS.c.linkedid).where(
                        CALLS.c.pbx_node == self._node, CALLS.c.linkedid.in_(ids[i : i + _CHUNK])
                    )
                )
                found.update(str(k) for (k,) in rows.all())
        return found

    async def cursor(self) -> tuple[str, int] | None:
        async with self._sessions() as session:
            conn = await session.connection()
            row = (
                await conn.execute(
                    sa.select(CURSORS.c.store, CURSORS.c.last_id).where(
                        CURSORS.c.pbx_node == self._node
                    )
                )
            ).first()
        return (str(row.store), int(row.last_id)) if row is not None else None

    async def save_cursor(self, store: str, last_id: int) -> None:
        values = {"store": store[:200], "last_id": last_id, "updated_at": _now()}
        async with self._sessions() as session:
            conn = await session.connection()
            done = await conn.execute(
                sa.update(CURSORS).where(CURSORS.c.pbx_node == self._node).values(**values)
            )
            if done.rowcount == 0:
                await conn.execute(sa.insert(CURSORS).values(pbx_node=self._node, **values))
            await session.commit()

    async def _snapshots(self, query: Any) -> dict[str, dict[str, Any]]:
        async with self._sessions() as session:
            conn = await session.connection()
            rows = (await conn.execute(query)).mappings().all()
        return {str(r["linkedid"]): snapshot_from_row(dict(r)) for r in rows}


def _now() -> Any:
    return from_timestamp(time.time())
