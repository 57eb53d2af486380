"""Recording rows and the audit trail: the database side of recordings/.

Rows are never deleted (a trigger refuses it): the retention job marks them deleted.
Every read of a recording and every change (hold, purge) writes an audit_log entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.writer import ensure_call
from db.models import RecordingState, metadata
from db.unit_of_work import retry_locked
from kernel.audit import Actor, audit_row, write_audit

RECORDINGS = metadata.tables["recordings"]
CALLS = metadata.tables["calls"]
USERS = metadata.tables["users"]


SYSTEM = Actor()
T = TypeVar("T")


async def audit(
    conn: AsyncConnection,
    actor: Actor,
    action: str,
    recording_id: int | None,
    now: dt.datetime,
    **detail: Any,
) -> None:
    row = audit_row(
        actor=actor,
        action=action,
        object_type="recording",
        object_id=recording_id,
        detail=detail,
        at=now,
    )
    await write_audit(conn, [row])


class RecordingStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], pbx_node: str = "default"):
        self._sessions = sessions
        self._node = pbx_node

    async def agent_of(self, extension: str | None) -> tuple[int | None, str | None]:
        """(user id, username) of the agent with this extension, if known."""
        if not extension:
            return None, None
        async with self._sessions() as session:
            conn = await session.connection()
            row = (
                await conn.execute(
                    sa.select(USERS.c.id, USERS.c.username).where(USERS.c.extension == extension)
                )
            ).first()
        return (int(row.id), str(row.username)) if row else (None, None)

    async def count_for_call(self, linkedid: str, node: str | None = None) -> int:
        async with self._sessions() as session:
            conn = await session.connection()
            n = await conn.execute(
                sa.select(sa.func.count())
                .select_from(RECORDINGS)
                .where(
                    RECORDINGS.c.pbx_node == (node or self._node),
                    RECORDINGS.c.linkedid == linkedid,
                )
            )
            return int(n.scalar_one())

    async def _write(self, body: Callable[[AsyncSession, AsyncConnection], Awaitable[T]]) -> T:
        """One write transaction, tried again when SQLite reports the database locked
        (db/unit_of_work.py): every write here records a fact that already happened (a
        file being recorded, a file finished, a read of it), so none may be lost to a busy
        writer (the capacity soak lost such writes under load)."""

        async def work() -> T:
            async with self._sessions() as session:
                result = await body(session, await session.connection())
                await session.commit()
                return result

        return await retry_locked(work)

    async def create(
        self,
        *,
        linkedid: str,
        path: str,
        fmt: str,
        node: str | None = None,
        agent_id: int | None,
        started_at: dt.datetime,
        call_started: float | None,
    ) -> int:
        pbx_node = node or self._node

        async def body(session: AsyncSession, conn: AsyncConnection) -> int:
            call_id = await ensure_call(
                session, linkedid, pbx_node=pbx_node, started_at=call_started
            )
            result = await conn.execute(
                sa.insert(RECORDINGS)
                .values(
                    call_id=call_id,
                    pbx_node=pbx_node,
                    linkedid=linkedid,
                    agent_id=agent_id,
                    path=path,
                    format=fmt,
                    state=RecordingState.RECORDING,
                    started_at=started_at,
                    created_at=started_at,
                    legal_hold=False,
                )
                .returning(RECORDINGS.c.id)
            )
            return int(result.scalar_one())

        return await self._write(body)

    async def set_state(self, recording_id: int, state: RecordingState) -> None:
        await self.update(recording_id, state=state)

    async def update(self, recording_id: int, **values: Any) -> None:
        async def body(_session: AsyncSession, conn: AsyncConnection) -> None:
            await conn.execute(
                sa.update(RECORDINGS).where(RECORDINGS.c.id == recording_id).values(**values)
            )

        await self._write(body)

    async def complete(self, recording_id: int, ended_at: dt.datetime, **facts: Any) -> None:
        """Store the file's facts and link the call to its (first) recording."""

        async def body(_session: AsyncSession, conn: AsyncConnection) -> None:
            await conn.execute(
                sa.update(RECORDINGS)
                .where(RECORDINGS.c.id == recording_id)
                .values(ended_at=ended_at, **facts)
            )
            call_id = (
                await conn.execute(
                    sa.select(RECORDINGS.c.call_id).where(RECORDINGS.c.id == recording_id)
                )
            ).scalar_one()
            await conn.execute(
                sa.update(CALLS)
                .where(CALLS.c.id == call_id, CALLS.c.recording_id.is_(None))
                .values(recording_id=recording_id)
            )

        await self._write(body)

    async def get(self, recording_id: int) -> dict[str, Any] | None:
        async with self._sessions() as session:
            conn = await session.connection()
            row = (
                await conn.execute(sa.select(RECORDINGS).where(RECORDINGS.c.id == recording_id))
            ).first()
        return dict(row._mapping) if row else None

    async def audit(
        self, actor: Actor, action: str, recording_id: int | None, now: dt.datetime, **detail: Any
    ) -> None:
        async def body(_session: AsyncSession, conn: AsyncConnection) -> None:
            await audit(conn, actor, action, recording_id, now, **detail)

        await self._write(body)

    async def set_legal_hold(
        self, recording_id: int, hold: bool, actor: Actor, reason: str | None, now: dt.datetime
    ) -> bool:
        """Returns False when there is no such recording."""
        async with self._sessions() as session:
            conn = await session.connection()
            result = await conn.execute(
                sa.update(RECORDINGS)
                .where(RECORDINGS.c.id == recording_id)
                .values(
                    legal_hold=hold,
                    legal_hold_reason=(reason or None) if hold else None,
                    legal_hold_by_id=actor.id if hold else None,
                    legal_hold_at=now if hold else None,
                )
            )
            if result.rowcount == 0:
                return False
            action = "recording.legal_hold" if hold else "recording.legal_hold_released"
            await audit(conn, actor, action, recording_id, now, reason=reason or "")
            await session.commit()
        return True
