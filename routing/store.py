"""The router's persistence: agents and skills (users, agent_skills) and the agent state
history (agent_state_history), written by one background task so a slow database never
delays a routing decision; after a restart, the call log rows of the calls Asterisk
still has (routing/pbx/rebuild.py).

Contract with db/: one agent_state_history row per stretch of time in a state; the row
of the current state has ended_at NULL and is closed when the next one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AgentSkill, AgentStateHistory, User, metadata
from db.models.staff import AgentStateName, Role
from kernel.clock import from_timestamp

log = logging.getLogger(__name__)

HISTORY_BACKLOG = 10_000  # state changes buffered for the writer; above it, callers wait
CALLS = metadata.tables["calls"]
# What a restart needs of a call's row (routing/pbx/restore.py snapshot_from_row reads them).
CALL_COLUMNS = (
    "linkedid",
    "direction",
    "caller_number",
    "caller_name",
    "dialed_number",
    "started_at",
    "ivr_ended_at",
    "queued_at",
    "answered_at",
    "ivr_path",
    "self_service_outcome",
    "skill",
    "queue",
    "priority",
    "tier",
    "language",
    "customer_id",
    "agents",
)


@dataclass(frozen=True)
class AgentRecord:
    agent_id: int
    extension: str
    skills: dict[str, int]
    languages: list[str]
    state: str | None  # last recorded state, if its row is still open
    reason: str | None


@dataclass(frozen=True)
class StateChange:
    agent_id: int
    state: str
    reason: str | None
    at: float


class RoutingStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._queue: asyncio.Queue[StateChange] = asyncio.Queue(HISTORY_BACKLOG)
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    # -- agents ----------------------------------------------------------------------------

    async def load_agents(self) -> list[AgentRecord]:
        """Active users with role agent and an extension, with skills and open state."""
        async with self._sessions() as session:
            users = (
                await session.exec(
                    select(User).where(
                        User.role == Role.AGENT,
                        col(User.active).is_(True),
                        col(User.extension).is_not(None),
                    )
                )
            ).all()
            open_rows = (
                await session.exec(
                    select(AgentStateHistory).where(col(AgentStateHistory.ended_at).is_(None))
                )
            ).all()
        last = {r.user_id: r for r in open_rows}
        out = []
        for u in users:
            assert u.id is not None
            assert u.extension is not None
            row = last.get(u.id)
            out.append(
                AgentRecord(
                    u.id,
                    u.extension,
                    {s.skill: s.level for s in u.skills},
                    list(u.languages or []),
                    row.state.value if row else None,
                    row.reason if row else None,
                )
            )
        return out

    async def load_calls(
        self, linkedids: Collection[str], pbx_node: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Call log rows by Linkedid (those the call log has written; others are absent)."""
        wanted = sorted(set(linkedids))
        out: dict[str, dict[str, Any]] = {}
        async with self._sessions() as session:
            conn = await session.connection()
            for i in range(0, len(wanted), 500):
                stmt = sa.select(*(CALLS.c[name] for name in CALL_COLUMNS)).where(
                    # Linkedids differ across nodes (asterisk.conf systemname).
                    *([CALLS.c.pbx_node == pbx_node] if pbx_node is not None else []),
                    CALLS.c.linkedid.in_(wanted[i : i + 500]),
                )
                for row in (await conn.execute(stmt)).mappings():
                    out[str(row["linkedid"])] = dict(row)
        return out

    async def save_skills(self, agent_id: int, skills: Mapping[str, int]) -> None:
        async with self._sessions() as session:
            conn = await session.connection()
            table = AgentSkill.__table__  # type: ignore[attr-defined]
            await conn.execute(sa.delete(table).where(table.c.user_id == agent_id))
            now = dt.datetime.now(dt.UTC)
            if skills:
                await conn.execute(
                    sa.insert(table),
                    [
                        {"user_id": agent_id, "skill": k, "level": v, "updated_at": now}
                        for k, v in sorted(skills.items())
                    ],
                )
            await session.commit()

    # -- state history ---------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_loop(), name="routing-state-history")

    async def stop(self, timeout: float = 5.0) -> None:
        """Write what is buffered (for at most `timeout` seconds: a database that is
        away must not keep the process from stopping), then stop."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("agent state history: %d change(s) not written", self._queue.qsize())
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def record(self, change: StateChange) -> None:
        await self._queue.put(change)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            while True:
                try:
                    await self._write(batch)
                    break
                except Exception:
                    log.exception("agent state history write failed; retrying")
                    await asyncio.sleep(1.0)
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[StateChange]) -> None:
        table = AgentStateHistory.__table__  # type: ignore[attr-defined]
        async with self._sessions() as session:
            conn = await session.connection()
            for change in batch:
                at = from_timestamp(change.at)
                await conn.execute(
                    sa.update(table)
                    .where(table.c.user_id == change.agent_id, table.c.ended_at.is_(None))
                    .values(ended_at=at)
                )
                await conn.execute(
                    sa.insert(table).values(
                        user_id=change.agent_id,
                        state=AgentStateName(change.state).value,
                        reason=change.reason,
                        started_at=at,
                    )
                )
            await session.commit()
        self.written += len(batch)
