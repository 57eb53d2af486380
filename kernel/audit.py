"""Who read or did what: the one Actor and the one writer of audit_log (append-only, see
db/models/audit.py). Every feature writes its audit rows through here.

- `audit_row(...)` builds a row (the field limits of the table are applied here);
- `write_audit(conn, rows)` inserts rows in the caller's transaction (a connection or an
  ORM session), so the audited change and its row commit together;
- `audit(session, ...)` inserts one row and commits: the REST reads (a customer file, a
  search) are recorded before the data is returned, or not served at all;
- `AuditQueue.put(...)` for the screen-pop hot path: rows are batched and written by one
  task, so a pop is never delayed by a database write. The queue is bounded; when full,
  put() waits (backpressure on the pop lane), it never drops a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import metadata
from kernel.clock import Clock

log = logging.getLogger("hotline.audit")
AUDIT: sa.Table = metadata.tables["audit_log"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: a user (id, name, role) or a component (id None). `source` is
    where it came from (a client address or a component), when the row has none of its own."""

    id: int | None = None
    name: str = "system"
    role: str | None = None
    source: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(None, name, None)


def audit_row(
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: str | int | None = "",
    source: str | None = None,
    detail: dict[str, Any] | None = None,
    at: dt.datetime,
) -> dict[str, Any]:
    """One audit_log row; `source` defaults to the actor's."""
    source = source if source is not None else (actor.source if actor else None)
    return {
        "at": at,
        "actor_id": actor.id if actor else None,
        "actor_name": (actor.name if actor else "system")[:80],
        "actor_role": actor.role if actor else None,
        "action": action[:60],
        "object_type": object_type[:40],
        "object_id": "" if object_id is None else str(object_id)[:64],
        "source": (source or "")[:64] or None,
        "detail": detail or {},
    }


async def write_audit(conn: AsyncConnection | AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows in the transaction of `conn` (no commit)."""
    if not rows:
        return
    connection = await conn.connection() if isinstance(conn, AsyncSession) else conn
    await connection.execute(AUDIT.insert(), list(rows))


async def audit(
    session: AsyncSession,
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: str | int = "",
    source: str | None = None,
    detail: dict[str, Any] | None = None,
    clock: Clock,
) -> None:
    """Insert one audit row in `session`'s transaction and commit it."""
    row = audit_row(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        source=source,
        detail=detail,
        at=clock.now(),
    )
    await write_audit(session, [row])
    await session.commit()


class AuditQueue:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, size: int = 10_000, batch: int = 200
    ) -> None:
        self._sessions = sessions
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    async def put(self, row: dict[str, Any]) -> None:
        await self._queue.put(row)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        if self._task is None:
            return
        await self.flush()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def flush(self) -> None:
        """Wait until every queued row is written (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            rows = [await self._queue.get()]
            while len(rows) < self._batch and not self._queue.empty():
                rows.append(self._queue.get_nowait())
            delay = 0.5
            while True:  # an audit row is never dropped: retry the batch until written
                try:
                    await self._write(rows)
                    break
                except Exception:
                    log.exception("audit rows not written yet; retrying in %.1fs", delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
            for _ in rows:
                self._queue.task_done()

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        async with self._sessions() as session:
            await write_audit(session, rows)
            await session.commit()
