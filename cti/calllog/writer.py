"""Writes the call log from the bus: group "calllog" on topic "call".

Exactly one row per call ((pbx_node, linkedid) unique, upserted), a live row from the
first event on (disposition in_progress, so live calls are queryable), finished by
call.ended. Delivery is at least once, so every write is idempotent: a snapshot older
than the row's `last_seq` is ignored and timeline rows are unique per (call, seq).
Resynced and recovered snapshots merge instead of replacing (cti/calllog/upsert.py).

Events waiting on the bus are written together, up to BATCH_MAX in one transaction
(one commit), in their order, and acknowledged once committed; the batch's reads (the
customer and agent of each call) come before its first write, so the write lock is held
for the writes only. A batch is a handful of statements whatever its size: one
executemany per run of alike upserts, one for the timeline rows, one select of the
calls' ids. Every statement is a turn of the event loop (aiosqlite answers from its
thread), and with four statements per event the writer did ~164 events/s on SQLite
against ~176 coming in at 8.4 calls/s: the backlog grew in memory (+30 % RSS in the
soak) and records came minutes late. One event per transaction had done ~100 events/s.
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
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.mapping import call_row_values, customer_ref, timeline_data
from cti.calllog.upsert import update_set, update_where
from db.models import metadata
from kernel import topics
from kernel.bus.port import BusClosed, EventBus
from kernel.clock import from_timestamp
from kernel.config.pbx import DEFAULT_NODE
from kernel.lifecycle import cancel_and_wait

log = logging.getLogger(__name__)
GROUP = "calllog"
SEEN_CALLS_KEPT = 10_000
# Events in one transaction: a commit's cost shared, and SQLite's single write lock held
# only briefly (a few statements, not a few per event: once 200 events held it for
# seconds, and a recording's row waited past busy_timeout: "database is locked").
BATCH_MAX = 128
CALLS: sa.Table = metadata.tables["calls"]
CALL_EVENTS: sa.Table = metadata.tables["call_events"]
CUSTOMERS: sa.Table = metadata.tables["customers"]
USERS: sa.Table = metadata.tables["users"]
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
    and the call log writer moves it to the call's node (`claim_placeholders`)."""
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


async def claim_placeholders(conn: Any, claims: list[dict[str, str]]) -> None:
    """A row made by `ensure_call` before a call's first event (on the default node)
    becomes the call's row on its node, unless the node has one already; claims are
    {"to_node", "claimed" (the Linkedid)}, one statement for them all (bound names that
    are not columns': an UPDATE reserves those)."""
    if not claims:
        return
    mine = CALLS.alias("mine")
    await conn.execute(
        sa.update(CALLS)
        .where(
            CALLS.c.pbx_node == DEFAULT_NODE,
            CALLS.c.linkedid == sa.bindparam("claimed"),
            ~sa.exists().where(
                mine.c.pbx_node == sa.bindparam("to_node"),
                mine.c.linkedid == sa.bindparam("claimed"),
            ),
        )
        .values(pbx_node=sa.bindparam("to_node")),
        claims,
    )


async def _known_ids(conn: Any, column: Any, wanted: Iterable[int | None]) -> set[int]:
    """Those of the wanted ids that `column` has."""
    ids = sorted({x for x in wanted if x is not None})
    found: set[int] = set()
    for first in range(0, len(ids), CHUNK):
        rows = await conn.execute(sa.select(column).where(column.in_(ids[first : first + CHUNK])))
        found.update(int(x) for x in rows.scalars())
    return found


_UPSERTS: dict[tuple[str, bool, bool, tuple[str, ...]], Any] = {}


async def _upsert_calls(
    conn: Any, rows: list[dict[str, Any]], shape: tuple[bool, bool] | None
) -> None:
    """One executemany for a run of snapshots that update a row alike ((merge,
    recovered), cti/calllog/upsert.py). Both drivers run an executemany row after row, in
    order (neither folds it into one multi-row INSERT without RETURNING), so a call twice
    in a run is upserted twice, the later after the earlier, as one by one."""
    if not rows or shape is None:
        return
    merge, recovered = shape
    dialect = conn.dialect.name
    columns = tuple(k for k in rows[0] if k not in ("pbx_node", "linkedid"))
    key = (dialect, merge, recovered, columns)
    stmt = _UPSERTS.get(key)
    if stmt is None:  # built once per shape: the SET clause is dozens of expressions
        insert = _insert(dialect, CALLS)
        stmt = _UPSERTS[key] = insert.on_conflict_do_update(
            index_elements=["pbx_node", "linkedid"],
            set_=update_set(CALLS, insert.excluded, list(columns), dialect, merge=merge),
            where=update_where(CALLS, insert.excluded, recovered=recovered),
        )
    await conn.execute(stmt, rows)


async def _call_ids(conn: Any, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """{(node, Linkedid): the call row's id} of calls just upserted."""
    linkedids = sorted({lid for _, lid in keys})
    out: dict[tuple[str, str], int] = {}
    for first in range(0, len(linkedids), CHUNK):
        rows = await conn.execute(
            sa.select(CALLS.c.pbx_node, CALLS.c.linkedid, CALLS.c.id).where(
                CALLS.c.linkedid.in_(linkedids[first : first + CHUNK])
            )
        )
        out.update({(str(n), str(lid)): int(cid) for n, lid, cid in rows.all()})
    return out


def _timeline_row(event: dict[str, Any]) -> dict[str, Any]:
    """A `call_events` row of an event, but its call's id."""
    return {
        "seq": int(event.get("seq") or 0),
        "kind": str(event.get("type", ""))[:40],
        "at": from_timestamp(float(event.get("at") or time.time())),
        "data": timeline_data(event),
    }


async def _apply_wrap(conn: Any, event: dict[str, Any]) -> None:
    linkedid = event.get("linkedid") or event.get("call_ref")
    if not linkedid:
        return
    await conn.execute(
        sa.update(CALLS)
        .where(
            # The router's wrap-up names no node: Linkedids differ across nodes
            # (asterisk.conf systemname), so the Linkedid alone finds the call.
            *([CALLS.c.pbx_node == str(event["pbx_node"])] if event.get("pbx_node") else []),
            CALLS.c.linkedid == linkedid,
        )
        .values(
            wrap_seconds=float(event.get("wrap_seconds") or 0),
            wrap_code=(event.get("wrap_code") or None),
        )
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
                log.warning(
                    "call log batch of %d failed; writing one by one", len(batch), exc_info=True
                )
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
        """Write the events in order in one transaction, in a handful of statements
        whatever the batch's size (module docstring): the reads, the claims, the upserts
        (one executemany per run of alike snapshots), the calls' ids, the timeline."""
        snapshots = [
            (e, e["call"]) for e in events if isinstance(e.get("call"), dict) and "call_id" in e
        ]
        firsts: list[str] = []
        async with self._sessions() as session:
            conn = await session.connection()  # Core statements: SQLModel's execute() warns
            # Reads first (no write lock yet), then the writes.
            customers = await _known_ids(
                conn, CUSTOMERS.c.id, {customer_ref(s.get("customer_id")) for _, s in snapshots}
            )
            agents = {str(s["agent"]) for _, s in snapshots if s.get("agent")}
            await self._learn_agents(conn, agents)
            # Every call of the batch held before its first write (`hold_linkedids`): a
            # call first seen here may have a placeholder being made right now, and
            # the campaign engine writes its round's calls in another order.
            await hold_linkedids(conn, _linkedids_of(events))
            claims: list[dict[str, str]] = []
            for event, _ in snapshots:
                node, linkedid = self._node_of(event), str(event["call_id"])
                if node != DEFAULT_NODE and linkedid not in self._seen and linkedid not in firsts:
                    firsts.append(linkedid)
                    claims.append({"to_node": node, "claimed": linkedid})
            await claim_placeholders(conn, claims)
            run: list[dict[str, Any]] = []
            shape: tuple[bool, bool] | None = None
            timeline: list[tuple[str, str, dict[str, Any]]] = []
            for event in events:
                snapshot = event.get("call")
                if isinstance(snapshot, dict) and "call_id" in event:
                    row, this = self._call_row(event, snapshot, customers)
                    if this != shape:
                        await _upsert_calls(conn, run, shape)
                        run, shape = [], this
                    run.append(row)
                    timeline.append((row["pbx_node"], row["linkedid"], _timeline_row(event)))
                elif event.get("type") == "call.wrapped":
                    await _upsert_calls(conn, run, shape)
                    run, shape = [], None
                    await _apply_wrap(conn, event)
            await _upsert_calls(conn, run, shape)
            if timeline:
                ids = await _call_ids(conn, {(node, lid) for node, lid, _ in timeline})
                await conn.execute(
                    _insert(conn.dialect.name, CALL_EVENTS).on_conflict_do_nothing(),
                    [{"call_id": ids[(node, lid)], **row} for node, lid, row in timeline],
                )
            await session.commit()
        for linkedid in firsts:  # claimed for good only once committed
            self._first_seen(linkedid)
        self.applied += len(snapshots)  # call snapshots written (wrap-ups are not counted)

    def _call_row(
        self, event: dict[str, Any], snapshot: dict[str, Any], customers: set[int]
    ) -> tuple[dict[str, Any], tuple[bool, bool]]:
        """The `calls` row of a snapshot, and how it updates an existing one: (merge,
        recovered) (cti/calllog/upsert.py)."""
        ref = customer_ref(snapshot.get("customer_id"))
        agent = snapshot.get("agent")
        values = call_row_values(
            snapshot,
            seq=int(event.get("seq") or 0),
            customer_id=ref if ref in customers else None,
            agent_id=self._agents.get(str(agent)) if agent else None,
        )
        values.update(
            pbx_node=self._node_of(event),
            linkedid=str(event["call_id"]),
            updated_at=from_timestamp(time.time()),
        )
        recovered = bool(event.get("recovered"))
        return values, (recovered or bool(snapshot.get("resynced")), recovered)

    async def _learn_agents(self, conn: Any, extensions: set[str]) -> None:
        """The user id of each agent extension not yet known (kept: extensions are few)."""
        unknown = sorted(extensions - set(self._agents))
        if not unknown:
            return
        rows = await conn.execute(
            sa.select(USERS.c.extension, USERS.c.id)
            .where(USERS.c.extension.in_(unknown))
            .order_by(USERS.c.id)
        )
        for ext, user_id in rows.all():
            self._agents.setdefault(str(ext), int(user_id))
        for ext in unknown:
            self._agents.setdefault(ext, None)

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
