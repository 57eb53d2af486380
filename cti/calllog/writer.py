"""Writes the call log from the bus: group "calllog" on topic "call".

Exactly one row per call ((pbx_node, linkedid) unique, upserted), a live row from the
first event on (disposition in_progress, so live calls are queryable), finished by
call.ended. Delivery is at least once, so every write is idempotent: a snapshot older
than the row's `last_seq` is ignored and timeline rows are unique per (call, seq).
Resynced and recovered snapshots merge instead of replacing (cti/calllog/upsert.py).

Events waiting on the bus are written together, up to BATCH_MAX in one transaction
(one commit), in their order, and acknowledged once committed; the batch's reads (the
customer and agent of each call) come before its first write, so the write lock is held
for the writes only. One event per
transaction kept up with about 100 events/s on SQLite: at 5.6 calls/s the soak's
backlog grew by ~7 events a second, held in memory, and the records came minutes late.
A batch that fails is written again one event at a time, each retried until written.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.mapping import call_row_values, customer_ref, timeline_data
from cti.calllog.upsert import update_set, update_where
from db.models import Customer, User, metadata
from kernel import topics
from kernel.bus.port import BusClosed, EventBus
from kernel.clock import from_timestamp
from kernel.config.pbx import DEFAULT_NODE
from kernel.lifecycle import cancel_and_wait

log = logging.getLogger(__name__)
GROUP = "calllog"
SEEN_CALLS_KEPT = 10_000
# Events in one transaction: a commit's cost shared, and SQLite's single write lock held
# only briefly. Every statement is a turn of the busy event loop (aiosqlite), so 200
# events (~800 statements) held the lock for seconds under load: other writers (a
# recording's row) waited past busy_timeout and failed "database is locked".
BATCH_MAX = 32
CALLS: sa.Table = metadata.tables["calls"]
CALL_EVENTS: sa.Table = metadata.tables["call_events"]
CHUNK = 500  # Linkedids per IN (...): under every backend's parameter limit
LINK_LOCKS = 0x43414C4C  # the advisory-lock namespace of calls' Linkedids ("CALL")


def _linkedids_of(events: Iterable[Mapping[str, Any]]) -> set[str]:
    """The calls a batch writes: snapshots' call ids, wrap-ups' Linkedids."""
    out = set()
    for e in events:
        if isinstance(e.get("call"), dict) and "call_id" in e:
            out.add(str(e["call_id"]))
        elif e.get("type") == "call.wrapped" and (e.get("linkedid") or e.get("call_ref")):
            out.add(str(e.get("linkedid") or e.get("call_ref")))
    return out


def _insert(dialect: str, table: Any) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def ensure_call(
    session: AsyncSession,
    linkedid: str,
    *,
    pbx_node: str | None = None,
    started_at: float | None = None,
) -> int:
    """The id of the call row for a Linkedid, creating a minimal one if the call log has
    not written it yet (the IVR links a ticket to a call that is still in progress).

    Without `pbx_node` (a ticket, a survey: they do not know the Asterisk node) the row
    of that Linkedid on any node is taken (Linkedids differ across nodes: asterisk.conf
    systemname); a placeholder made before the call's own events is on the default node,
    and the call log writer moves it to the call's node (`claim_placeholder`)."""
    conn = await session.connection()  # Core statements: SQLModel's execute() warns
    if pbx_node is None:
        found = await ensure_placeholders(conn, {linkedid: started_at or time.time()})
        return found[linkedid]
    stmt = (
        _insert(conn.dialect.name, CALLS)
        .values(_placeholder(pbx_node, linkedid, started_at or time.time()))
        .on_conflict_do_nothing(index_elements=["pbx_node", "linkedid"])
    )
    await conn.execute(stmt)
    row = await conn.execute(
        sa.select(CALLS.c.id).where(CALLS.c.pbx_node == pbx_node, CALLS.c.linkedid == linkedid)
    )
    return int(row.scalar_one())


def _placeholder(node: str, linkedid: str, started_at: float) -> dict[str, Any]:
    return {
        "pbx_node": node,
        "linkedid": linkedid,
        "started_at": from_timestamp(started_at),
        "ivr_path": [],
        "agents": [],
        "updated_at": from_timestamp(time.time()),
    }


def link_lock_keys(linkedids: Iterable[str]) -> list[int]:
    """The advisory-lock keys (int4, namespace LINK_LOCKS) of these Linkedids, sorted:
    every transaction takes its keys in this one order. Computed here, not with
    PostgreSQL's hashtext, so that the order is the keys' own (two Linkedids sorted by
    text can hash in the other order, and then two transactions could take the same two
    keys in opposite orders)."""
    return sorted({zlib.crc32(str(x).encode()) - 2**31 for x in linkedids})


async def hold_linkedids(conn: Any, linkedids: Iterable[str]) -> None:
    """Serialize, until this transaction ends, with every other transaction that holds
    one of these calls: take it before touching any of their rows.

    - Placeholders: a ticket's placeholder and the writer's first row of the same call,
      made in two transactions neither sees (PostgreSQL, read committed), made two
      records of one call (the cluster demo, while a new leader's writer caught up after
      a failover).
    - Deadlocks: the call log writer upserts a batch's calls in the events' order, the
      campaign engine its round's placeholders in sorted order; two transactions
      inserting the same two calls in opposite orders each waited for the other's
      uncommitted row (seen in tests/integration/campaigns' message campaign run, about
      1 run in 10). Taken in one order (`link_lock_keys`) before any row, these locks
      leave nothing to wait on in a cycle among the rows of the calls held.

    One statement: the keys, in order (a function scan yields its rows in array order).
    SQLite needs none: one writer at a time, and `ensure_placeholders`' single statement."""
    if conn.dialect.name != "postgresql":
        return
    keys = link_lock_keys(linkedids)
    if keys:
        await conn.execute(_HOLD, {"space": LINK_LOCKS, "keys": keys})


_HOLD = sa.text(
    "SELECT count(pg_advisory_xact_lock(CAST(:space AS integer), k)) "
    "FROM unnest(CAST(:keys AS integer[])) AS t(k)"
)


async def ensure_placeholders(conn: Any, started: Mapping[str, float]) -> dict[str, int]:
    """`ensure_call` without a node for many Linkedids {linkedid: started (timestamp)}:
    the id of each one's call record on any node (the first), a placeholder on the
    default node made where there is none; {linkedid: call id}."""
    await hold_linkedids(conn, started)
    found = await _first_rows(conn, started)
    for linkedid in sorted(set(started) - set(found)):
        # One statement, so on SQLite nothing is written between the look and the insert.
        values = _placeholder(DEFAULT_NODE, linkedid, started[linkedid])
        await conn.execute(
            _insert(conn.dialect.name, CALLS)
            .from_select(
                list(values),
                sa.select(*(sa.literal(v, CALLS.c[k].type) for k, v in values.items())).where(
                    ~sa.exists().where(CALLS.c.linkedid == linkedid)
                ),
            )
            .on_conflict_do_nothing(index_elements=["pbx_node", "linkedid"])
        )
    if len(found) < len(set(started)):
        found.update(await _first_rows(conn, set(started) - set(found)))
    return found


async def _first_rows(conn: Any, linkedids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(linkedids))
    found: dict[str, int] = {}
    for first in range(0, len(ids), CHUNK):
        rows = await conn.execute(
            sa.select(CALLS.c.linkedid, sa.func.min(CALLS.c.id))
            .where(CALLS.c.linkedid.in_(ids[first : first + CHUNK]))
            .group_by(CALLS.c.linkedid)
        )
        found.update({str(lid): int(cid) for lid, cid in rows.all()})
    return found


async def claim_placeholder(conn: Any, node: str, linkedid: str) -> None:
    """A row made by `ensure_call` before this call's first event (on the default node)
    becomes the call's row on its node, unless the node has one already."""
    mine = CALLS.alias("mine")
    await conn.execute(
        sa.update(CALLS)
        .where(
            CALLS.c.pbx_node == DEFAULT_NODE,
            CALLS.c.linkedid == linkedid,
            ~sa.exists().where(mine.c.pbx_node == node, mine.c.linkedid == linkedid),
        )
        .values(pbx_node=node)
    )


class CallLogWriter:
    def __init__(
        self,
        bus: EventBus,
        sessions: async_sessionmaker[AsyncSession],
        *,
        pbx_node: str = DEFAULT_NODE,
    ) -> None:
        self._bus = bus
        self._sessions = sessions
        self._node = pbx_node
        self._agents: dict[str, int | None] = {}
        self._seen: dict[str, None] = {}  # Linkedids applied, oldest first (_first_seen)
        self._task: asyncio.Task[None] | None = None
        self.applied = 0

    async def start(self) -> None:
        sub = await self._bus.subscribe(topics.CALL, group=GROUP, consumer=f"calllog-{self._node}")
        self._task = asyncio.create_task(self._run(sub), name="calllog-writer")

    async def stop(self) -> None:
        # Bounded: a write stuck on a database that does not answer must not keep the
        # process (or a test's teardown) from ending; its event stays unacknowledged on
        # the bus and is applied again by the next writer.
        if self._task is not None:
            await cancel_and_wait([self._task], what="call-log writer")
            self._task = None

    async def _run(self, sub: Any) -> None:
        try:
            while True:
                try:
                    batch = [await sub.get()]
                except BusClosed:
                    return
                while len(batch) < BATCH_MAX:
                    try:
                        batch.append(await sub.get(timeout=0))  # only what is there now
                    except (TimeoutError, BusClosed):
                        break
                await self._write(batch)
                for msg in batch:
                    await sub.ack(msg)
        finally:
            await sub.close()

    async def _write(self, batch: list[Any]) -> None:
        """The batch in one transaction; if that fails, each event on its own, retried
        until written: the database away or busy keeps the events (unacknowledged) rather
        than lose a call record."""
        try:
            await self.apply_batch([msg.data for msg in batch])
            return
        except Exception:
            if len(batch) == 1:
                log.exception("call log write failed; retrying")
                await asyncio.sleep(1.0)
            else:
                log.warning("call log batch of %d failed; writing one by one", len(batch))
        for msg in batch:
            while True:
                try:
                    await self.apply(msg.data)
                    break
                except Exception:
                    log.exception("call log write failed; retrying")
                    await asyncio.sleep(1.0)

    async def apply(self, event: dict[str, Any]) -> None:
        await self.apply_batch([event])

    async def apply_batch(self, events: list[dict[str, Any]]) -> None:
        """Write the events in order in one transaction."""
        firsts: list[str] = []
        calls = 0
        async with self._sessions() as session:
            # Reads first (no write lock yet), then the writes.
            refs: list[tuple[int | None, int | None]] = []
            for event in events:
                snapshot = event.get("call")
                if isinstance(snapshot, dict) and "call_id" in event:
                    customer_id = await self._customer(session, snapshot.get("customer_id"))
                    agent_id = await self._agent(session, snapshot.get("agent"))
                    refs.append((customer_id, agent_id))
            # Every call of the batch held before its first write (`hold_linkedids`): a
            # call first seen here may have a placeholder being made right now, and
            # the campaign engine writes its round's calls in another order.
            await hold_linkedids(await session.connection(), _linkedids_of(events))
            found = iter(refs)
            for event in events:
                snapshot = event.get("call")
                if isinstance(snapshot, dict) and "call_id" in event:
                    await self._apply_call(session, event, snapshot, next(found), firsts)
                    calls += 1
                elif event.get("type") == "call.wrapped":
                    await self._apply_wrap(session, event)
            await session.commit()
        for linkedid in firsts:  # claimed for good only once committed
            self._first_seen(linkedid)
        self.applied += calls  # call snapshots written (wrap-ups are not counted)

    async def _apply_call(
        self,
        session: AsyncSession,
        event: dict[str, Any],
        snapshot: dict[str, Any],
        refs: tuple[int | None, int | None],
        firsts: list[str],
    ) -> None:
        seq = int(event.get("seq") or 0)
        node = self._node_of(event)
        customer_id, agent_id = refs
        conn = await session.connection()
        linkedid = str(event["call_id"])
        if node != DEFAULT_NODE and linkedid not in self._seen and linkedid not in firsts:
            firsts.append(linkedid)
            await claim_placeholder(conn, node, linkedid)
        values = call_row_values(snapshot, seq=seq, customer_id=customer_id, agent_id=agent_id)
        values.update(
            pbx_node=node,
            linkedid=event["call_id"],
            updated_at=from_timestamp(time.time()),
        )
        table = CALLS
        dialect = conn.dialect.name
        recovered = bool(event.get("recovered"))
        stmt = _insert(dialect, table).values(**values)
        columns = [k for k in values if k not in ("pbx_node", "linkedid")]
        stmt = stmt.on_conflict_do_update(
            index_elements=["pbx_node", "linkedid"],
            set_=update_set(
                table,
                stmt.excluded,
                columns,
                dialect,
                merge=recovered or bool(snapshot.get("resynced")),
            ),
            where=update_where(table, stmt.excluded, recovered=recovered),
        )
        await conn.execute(stmt)
        call_id = (
            await conn.execute(
                sa.select(table.c.id).where(
                    table.c.pbx_node == node, table.c.linkedid == event["call_id"]
                )
            )
        ).scalar_one()
        ev = (
            _insert(dialect, CALL_EVENTS)
            .values(
                call_id=call_id,
                seq=seq,
                kind=str(event.get("type", ""))[:40],
                at=from_timestamp(float(event.get("at") or time.time())),
                data=timeline_data(event),
            )
            .on_conflict_do_nothing()
        )
        await conn.execute(ev)

    async def _apply_wrap(self, session: AsyncSession, event: dict[str, Any]) -> None:
        linkedid = event.get("linkedid") or event.get("call_ref")
        if not linkedid:
            return
        table = CALLS
        conn = await session.connection()
        await conn.execute(
            sa.update(table)
            .where(
                # The router's wrap-up names no node: Linkedids differ across nodes
                # (asterisk.conf systemname), so the Linkedid alone finds the call.
                *([table.c.pbx_node == str(event["pbx_node"])] if event.get("pbx_node") else []),
                table.c.linkedid == linkedid,
            )
            .values(
                wrap_seconds=float(event.get("wrap_seconds") or 0),
                wrap_code=(event.get("wrap_code") or None),
            )
        )

    def _first_seen(self, linkedid: str) -> bool:
        """The first event of this call this writer applies (bounded memory: a call
        seen again after many others only costs one more claim)."""
        if linkedid in self._seen:
            return False
        self._seen[linkedid] = None
        if len(self._seen) > SEEN_CALLS_KEPT:
            self._seen.pop(next(iter(self._seen)))
        return True

    def _node_of(self, event: dict[str, Any]) -> str:
        """The Asterisk the event comes from (cti/bridge.py tags each); Twilio's calls and
        events from before nodes existed: this writer's node."""
        return str(event.get("pbx_node") or self._node)

    async def _customer(self, session: AsyncSession, value: Any) -> int | None:
        ref = customer_ref(value)
        if ref is None:
            return None
        found = await session.get(Customer, ref)
        return ref if found is not None else None

    async def _agent(self, session: AsyncSession, extension: Any) -> int | None:
        if not extension:
            return None
        ext = str(extension)
        if ext not in self._agents:
            row = await session.exec(select(User.id).where(User.extension == ext))
            self._agents[ext] = row.first()
        return self._agents[ext]
