"""Fencing tokens where the effects are written: a leader that lost its lease without
knowing it (paused past the TTL: a stopped VM, a long GC, a frozen container) must not
act on an old term.

Each term of leadership has a token higher than every earlier one (kernel/leadership.py).
The row `cluster_fences[name]` keeps the highest token that has acted. `check(session)`,
inside the transaction that writes a duty's effect, moves the row to this term's token
or, when a newer term already acted, raises `Fenced`: the transaction is rolled back and
the duty stops. On PostgreSQL the UPDATE holds the row until the caller commits, so two
terms' transactions are ordered and the older one loses; on SQLite the database is one
file written by one writer at a time.

`claim_slot(slot)` runs a once-per-slot duty (the daily retention purge) at most once per
slot across the cluster and across takeovers: the first term to claim a slot wins, a new
leader that takes over the same day does not purge again.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import ClusterFence
from kernel.clock import Clock

FENCES = ClusterFence.__table__  # type: ignore[attr-defined]


class Lease(Protocol):
    """What a fence reads of the leadership (kernel/leadership.py's elections)."""

    @property
    def is_leader(self) -> bool: ...

    @property
    def token(self) -> int: ...

    @property
    def node(self) -> str: ...

    @property
    def fenced(self) -> bool: ...  # False: one process, no competitor (AlwaysLeader)


class Fenced(Exception):
    """A newer term of leadership has acted (or this process leads no more)."""


class Fence:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        name: str,
        lease: Lease,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self.name = name
        self._lease = lease
        self._clock = clock

    async def check(self, session: AsyncSession) -> None:
        """Inside the caller's transaction: raise Fenced unless this term is the newest
        that has acted; record that it acts."""
        if not self._lease.is_leader:
            raise Fenced(f"{self.name}: this process is not the leader")
        token = self._lease.token
        if self._lease.fenced and await self._advance(session, token):
            return
        newest = await (await session.connection()).scalar(
            sa.select(FENCES.c.token).where(FENCES.c.name == self.name)
        )
        if newest is not None and not self._lease.fenced:
            return  # one process, nobody to fence off: the row only keeps slots
        if newest is None:
            try:
                async with session.begin_nested():
                    await (await session.connection()).execute(
                        FENCES.insert().values(
                            name=self.name,
                            token=token if self._lease.fenced else 0,
                            holder=self._lease.node,
                            updated_at=self._clock.now(),
                        )
                    )
                return
            except IntegrityError:  # another process inserted it first: compare again
                if await self._advance(session, token):
                    return
                newest = await (await session.connection()).scalar(
                    sa.select(FENCES.c.token).where(FENCES.c.name == self.name)
                )
        raise Fenced(f"{self.name}: term {token} is older than term {newest}, which has acted")

    async def _advance(self, session: AsyncSession, token: int) -> bool:
        conn = await session.connection()
        result = await conn.execute(
            FENCES.update()
            .where(FENCES.c.name == self.name, FENCES.c.token <= token)
            .values(token=token, holder=self._lease.node, updated_at=self._clock.now())
        )
        return bool(result.rowcount)

    async def holds(self) -> bool:
        """In a transaction of its own: may this term still act? (A loop's check before
        each round of work whose effects are not in this database: Originate, HTTP.)"""
        try:
            async with self._sessions() as session, session.begin():
                await self.check(session)
        except Fenced:
            return False
        return True

    async def claim_slot(self, slot: dt.datetime) -> bool:
        """True once per `slot` across the cluster: for the first term that claims it."""
        try:
            async with self._sessions() as session, session.begin():
                await self.check(session)
                conn = await session.connection()
                result = await conn.execute(
                    FENCES.update()
                    .where(
                        FENCES.c.name == self.name,
                        sa.or_(FENCES.c.last_run_at.is_(None), FENCES.c.last_run_at < slot),
                    )
                    .values(last_run_at=slot)
                )
                return bool(result.rowcount)
        except Fenced:
            return False
