"""AgentHub: from bus events to each agent's desktop, in order, with replay.

Inbound (fan-out subscriptions, so every API worker sees everything):
- "offer"  {"type": "offer", "agent_id", "call_id", ..., "call": snapshot} from the router
           -> a "pop" frame for that agent only; once the frame is written to the agent's
           socket: {"type": "offer.delivered", "agent_id", "call_id", "at"} on "offer" (the
           router rings the phone after it) and an audit row for the customer file shown.
- "call"   call events (cti/events.py) for calls offered to or answered by the agent
           (by agent_id from the offer, or by extension) -> "call" frames; call.queued /
           call.ivr_completed prefetch the caller's context for the pop (pop.py).
- "agent"  {"type": "agent.state", "agent_id", ...} -> "agent" frames.
- "auth"   {"type": "auth.revoked", "jti"} -> that token's sockets are closed (1008);
           {"type": "auth.user_revoked", "user_id"} (an account disabled or reset by an
           admin, admin/api.py) -> every socket of that user is closed.

Outbound frames (JSON text): {"type": "pop" | "call" | "agent", "seq", "epoch", "id", ...}.
`seq` numbers an agent's frames on this worker (epoch = this hub's life); `id` is the same
on every worker (bus message id), so a desktop that moves to another worker dedupes.

Numbers: frames leave masked (privacy/redact.py) to an agent whose role is outside
privacy.full_number_roles (role from the users table and the desktop's sign-in; unknown
= masked); a pop with full numbers on screen is audited "customer.number_shown".

Order: an agent's frames leave in bus order even when a pop waits for the database: the
agent's later frames queue behind it in that agent's lane, other agents are not held up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from agent_api.auth import Principal
from db.models import metadata
from desk.push.connection import CLOSE_GOING_AWAY, CLOSE_POLICY, AgentConnection
from desk.push.pop import PopBuilder
from desk.push.replay import Frame, ReplayBuffer
from hotline.services import Services
from kernel import topics
from kernel.audit import AuditQueue, audit_row
from kernel.bus.port import BusClosed, BusMessage, Subscription
from privacy.numbers import NUMBER_SHOWN
from privacy.redact import NumberPolicy, redact

log = logging.getLogger("hotline.api.hub")

TOPICS = (topics.OFFER, topics.CALL, topics.AGENT, topics.AUTH)
PREFETCH_ON = ("call.ivr_completed", "call.queued", "call.offered")
MAX_SOCKETS_PER_AGENT = 4
SIDE_TASK_GRACE = 2.0  # seconds stop() waits for acknowledgements in flight


@dataclass(slots=True)
class _Out:
    id: str
    body: dict[str, Any] | None = None
    lazy: Callable[[], Awaitable[dict[str, Any]]] | None = None
    pop_call_id: str | None = None


Job = _Out | Callable[[], Awaitable[_Out]]


@dataclass(slots=True)
class CallAccess:
    """A call an agent was offered: its customer's file is open to that agent."""

    customer_ids: set[int] = field(default_factory=set)
    number: str = ""
    ended_at: float | None = None


def dumps(data: dict[str, Any]) -> str:
    """A frame as JSON text (UTF-8, Chinese as is). orjson: the pop path runs cold at a
    few hundred frames a second, where the standard encoder is the biggest single cost."""
    return orjson.dumps(data, default=str).decode()


class AgentHub:
    def __init__(
        self,
        services: Services,
        builder: PopBuilder,
        audit: AuditQueue,
        *,
        window_frames: int = 512,
        window_seconds: float = 300.0,
        max_queue: int = 256,
    ) -> None:
        self._services = services
        self._bus = services.bus
        self._clock = services.clock
        self.builder = builder
        self._audit = audit
        self._grace = float(services.settings.auth.on_call_grace_seconds)
        self._window = (window_frames, window_seconds)
        self.max_queue = max_queue
        self.pops_sent = 0  # screen-pops on an agent's screen (first delivery of each)
        self.epoch = uuid.uuid4().hex[:12]
        self._rings: dict[int, ReplayBuffer] = {}
        self._conns: dict[int, list[AgentConnection]] = {}
        self._lanes: dict[int, deque[Job]] = {}
        self._call_agents: dict[str, set[int]] = {}
        self._access: dict[int, dict[str, CallAccess]] = {}
        self._by_extension: dict[str, int] = {}
        self._numbers = NumberPolicy(services.settings.privacy)
        self._full_numbers: set[int] = set()  # agents shown full numbers (by role)
        self._delivered: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._sub: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lane_tasks: set[asyncio.Task[None]] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()

    # -- life --------------------------------------------------------------------------

    async def start(self) -> None:
        await self._load_extensions()
        self._sub = await self._bus.subscribe(*TOPICS, buffer=100_000)
        self._tasks = [
            asyncio.create_task(self._consume(self._sub), name="agent-hub"),
            asyncio.create_task(self._sweep(), name="agent-hub-sweeper"),
        ]

    async def stop(self) -> None:
        for conns in list(self._conns.values()):
            for conn in conns:
                conn.close(CLOSE_GOING_AWAY, "server shutting down")
        if self._sub is not None:
            await self._sub.close()
        if self._side_tasks:  # acknowledgements and audit rows in flight: let them land
            await asyncio.wait(set(self._side_tasks), timeout=SIDE_TASK_GRACE)
        for task in [*self._tasks, *self._lane_tasks, *self._side_tasks]:
            task.cancel()
        for task in [*self._tasks, *self._lane_tasks, *self._side_tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _load_extensions(self) -> None:
        users = metadata.tables["users"]
        async with self._services.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(users.c.id, users.c.extension, users.c.role))
            ).all()
            self._by_extension = {str(ext): int(uid) for uid, ext, _ in rows if ext is not None}
            self._full_numbers = {
                int(uid) for uid, _, role in rows if self._numbers.full_for(str(role))
            }

    # -- desktops ----------------------------------------------------------------------

    def attach(self, conn: AgentConnection, epoch: str | None, seq: int | None) -> dict[str, Any]:
        """Register a desktop and queue what it missed (synchronously: no live frame can
        slip in between the replay and the first live frame)."""
        agent_id = conn.agent_id
        if self._numbers.full_for(conn.principal.role.value):
            self._full_numbers.add(agent_id)
        else:
            self._full_numbers.discard(agent_id)
        ring = self._ring(agent_id)
        now = self._clock.timestamp()
        if epoch == self.epoch and seq is not None:
            frames, complete = ring.after(seq, now)
        else:  # first connection, or another worker/restart: the whole window, deduped by id
            frames, complete = ring.after(0, now)[0], True
        hello = {
            "type": "hello",
            "epoch": self.epoch,
            "seq": ring.last_seq,
            "replayed": len(frames),
            "complete": complete,
            "user": {
                "id": conn.principal.id,
                "username": conn.principal.username,
                "display_name": conn.principal.display_name,
                "role": conn.principal.role.value,
                "extension": conn.principal.extension,
            },
        }
        conn.push(Frame(0, "hello", self._clock.timestamp(), text=dumps(hello)))
        for frame in frames:
            conn.push(frame)
        conns = self._conns.setdefault(agent_id, [])
        conns.append(conn)
        while len(conns) > MAX_SOCKETS_PER_AGENT:
            conns.pop(0).close(CLOSE_POLICY, "opened in another window")
        return hello

    def detach(self, conn: AgentConnection) -> None:
        conns = self._conns.get(conn.agent_id)
        if conns and conn in conns:
            conns.remove(conn)
            if not conns:
                del self._conns[conn.agent_id]

    def connections(self, agent_id: int) -> list[AgentConnection]:
        return list(self._conns.get(agent_id, ()))

    def connected(self) -> int:
        return sum(len(c) for c in self._conns.values())

    # -- what an agent may see ---------------------------------------------------------

    def on_call_with(self, agent_id: int, customer_id: int) -> bool:
        now = self._clock.timestamp()
        for access in self._access.get(agent_id, {}).values():
            if customer_id in access.customer_ids and (
                access.ended_at is None or now - access.ended_at <= self._grace
            ):
                return True
        return False

    def calls_of(self, agent_id: int) -> list[str]:
        """Linkedids of the calls offered to this agent and still open to it."""
        return list(self._access.get(agent_id, {}))

    # -- bus ---------------------------------------------------------------------------

    async def _consume(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            try:
                self._dispatch(msg)
            except Exception:
                log.exception("event %s/%s not pushed", msg.topic, msg.data.get("type"))

    def _dispatch(self, msg: BusMessage) -> None:
        data, kind = msg.data, str(msg.data.get("type", ""))
        frame_id = f"{msg.topic}:{msg.id}"
        if msg.topic == topics.OFFER and kind == "offer":
            self._offer(frame_id, data)
        elif msg.topic == topics.CALL:
            self._call_event(frame_id, kind, data)
        elif msg.topic == topics.AGENT and kind == "agent.state":
            self._agent_state(frame_id, data)
        elif msg.topic == topics.AUTH and kind == "auth.revoked":
            for conns in self._conns.values():
                for conn in list(conns):
                    if conn.principal.token_id == data.get("jti"):
                        conn.close(CLOSE_POLICY, "signed out")
        elif msg.topic == topics.AUTH and kind == "auth.user_revoked":
            for conns in self._conns.values():
                for conn in list(conns):
                    if conn.principal.id == data.get("user_id"):
                        conn.close(CLOSE_POLICY, "account disabled or reset")

    def _offer(self, frame_id: str, offer: dict[str, Any]) -> None:
        agent_id, call_id = int(offer["agent_id"]), str(offer["call_id"])
        call: dict[str, Any] = offer.get("call") or {}
        if offer.get("extension"):
            self._by_extension[str(offer["extension"])] = agent_id
        self._call_agents.setdefault(call_id, set()).add(agent_id)
        access = self._access.setdefault(agent_id, {}).setdefault(call_id, CallAccess())
        access.number = str(call.get("caller_number") or "")
        if str(call.get("customer_id") or "").isdigit():
            access.customer_ids.add(int(call["customer_id"]))
        head = {"type": "pop", "call_id": call_id, "at": self._clock.timestamp()}

        def body(ctx: Any) -> dict[str, Any]:
            if ctx.customer_id is not None:
                access.customer_ids.add(ctx.customer_id)
            return {**head, "pop": self.builder.render(offer, ctx)}

        async def enrich() -> dict[str, Any]:
            return body(await self.builder.context(call))

        if agent_id not in self._conns:  # nobody here to show it: rendered if replayed
            self._submit(agent_id, _Out(frame_id, lazy=enrich, pop_call_id=call_id))
            return
        ctx = self.builder.lookup(call)
        if ctx is not None:
            self._submit(agent_id, _Out(frame_id, body=body(ctx), pop_call_id=call_id))
            return

        async def job() -> _Out:
            return _Out(frame_id, body=await enrich(), pop_call_id=call_id)

        self._submit(agent_id, job)

    def _call_event(self, frame_id: str, kind: str, data: dict[str, Any]) -> None:
        call: dict[str, Any] = data.get("call") or {}
        call_id = str(data.get("call_id") or data.get("linkedid") or "")
        if kind in PREFETCH_ON and self._conns and call.get("disposition") == "in_progress":
            self.builder.prefetch(call)
        targets = set(self._call_agents.get(call_id, ()))
        for ext in (data.get("agent"), *(call.get("agents") or ())):
            agent_id = self._by_extension.get(str(ext)) if ext else None
            if agent_id is not None:
                targets.add(agent_id)
                if kind == "call.answered":
                    self._call_agents.setdefault(call_id, set()).add(agent_id)
        if kind == "call.wrapped" and str(data.get("agent_id") or "").isdigit():
            targets.add(int(data["agent_id"]))
        body = {
            "type": "call",
            "event": kind,
            "call_id": call_id,
            "agent": data.get("agent"),
            "at": data.get("at"),
            "call": call or None,
        }
        if kind == "call.wrapped":
            body["wrap_code"] = data.get("wrap_code")
        for agent_id in targets:
            self._submit(agent_id, _Out(frame_id, body=body))
        if kind == "call.ended":
            now = self._clock.timestamp()
            for agent_id in self._call_agents.pop(call_id, set()):
                access = self._access.get(agent_id, {}).get(call_id)
                if access is not None:
                    access.ended_at = now

    def _agent_state(self, frame_id: str, data: dict[str, Any]) -> None:
        agent_id = int(data["agent_id"])
        if data.get("extension"):
            self._by_extension[str(data["extension"])] = agent_id
        body = {
            "type": "agent",
            "state": data.get("state"),
            "reason": data.get("reason"),
            "extension": data.get("extension"),
            "at": data.get("at"),
        }
        self._submit(agent_id, _Out(frame_id, body=body))

    # -- per-agent lanes ---------------------------------------------------------------

    def _submit(self, agent_id: int, job: Job) -> None:
        lane = self._lanes.get(agent_id)
        if lane is None and isinstance(job, _Out):
            self._emit(agent_id, job)  # the fast path: nothing ahead of it
            return
        if lane is None:
            lane = self._lanes[agent_id] = deque()
            task = asyncio.create_task(self._drain(agent_id, lane), name=f"lane-{agent_id}")
            self._lane_tasks.add(task)
            task.add_done_callback(self._lane_tasks.discard)
        lane.append(job)

    async def _drain(self, agent_id: int, lane: deque[Job]) -> None:
        try:
            while lane:
                job = lane[0]
                try:
                    out = job if isinstance(job, _Out) else await job()
                except Exception:
                    log.exception("a frame for agent %s could not be built", agent_id)
                    lane.popleft()
                    continue
                lane.popleft()
                self._emit(agent_id, out)
        finally:
            self._lanes.pop(agent_id, None)

    def _ring(self, agent_id: int) -> ReplayBuffer:
        ring = self._rings.get(agent_id)
        if ring is None:
            ring = self._rings[agent_id] = ReplayBuffer(*self._window)
        return ring

    def _emit(self, agent_id: int, out: _Out) -> None:
        ring = self._ring(agent_id)
        seq = ring.next_seq()
        header = {"seq": seq, "epoch": self.epoch, "id": out.id}
        now = self._clock.timestamp()
        if out.body is not None:
            body = self._shown(agent_id, out.body)
            frame = Frame(seq, out.id, now, text=dumps({**header, **body}))
        else:
            lazy = out.lazy
            assert lazy is not None

            async def render() -> str:
                return dumps({**header, **self._shown(agent_id, await lazy())})

            frame = Frame(seq, out.id, now, render=render)
        frame.pop_call_id = out.pop_call_id
        ring.append(frame)
        for conn in self._conns.get(agent_id, ()):
            conn.push(frame)

    def _shown(self, agent_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """The frame as this agent may see it: numbers masked unless the role allows."""
        if agent_id in self._full_numbers:
            return body
        masked: dict[str, Any] = redact(body)
        return masked

    # -- after a pop is on the screen ---------------------------------------------------

    def pop_sent(self, conn: AgentConnection, frame: Frame) -> None:
        """The pop is on the agent's screen: acknowledge it to the router (it rings the
        phone then) and audit the file shown, in a task of the hub's, not the socket's:
        the desktop may close right after the frame and that must not lose either."""
        call_id = frame.pop_call_id
        assert call_id is not None
        key = (conn.agent_id, call_id)
        if key in self._delivered:
            return
        self._delivered[key] = None
        self.pops_sent += 1  # ops/metrics.py
        while len(self._delivered) > 10_000:
            self._delivered.popitem(last=False)
        task = asyncio.create_task(self._acknowledge(conn.principal, call_id))
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _acknowledge(self, principal: Principal, call_id: str) -> None:
        try:
            await self._bus.publish(
                topics.OFFER,
                {
                    "type": "offer.delivered",
                    "agent_id": principal.id,
                    "call_id": call_id,
                    "at": self._clock.timestamp(),
                },
            )
        except Exception:
            log.exception("offer.delivered for %s/%s not published", principal.id, call_id)
        access = self._access.get(principal.id, {}).get(call_id)
        customers = sorted(access.customer_ids) if access else []
        for customer_id in customers:  # the file was on screen: an audited read
            row = audit_row(
                actor=principal.actor(),
                action="customer.read",
                object_type="customer",
                object_id=customer_id,
                source="screen_pop",
                detail={"call_id": call_id},
                at=self._clock.now(),
            )
            await self._audit.put(row)
        if principal.id in self._full_numbers:  # full numbers were on the pop
            row = audit_row(
                actor=principal.actor(),
                action=NUMBER_SHOWN,
                object_type="call",
                object_id=call_id,
                source="screen_pop",
                detail={"ids": customers},
                at=self._clock.now(),
            )
            await self._audit.put(row)

    # -- housekeeping ------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = self._clock.timestamp()
            for conns in list(self._conns.values()):
                for conn in list(conns):
                    if conn.expires_at <= now:
                        conn.close(CLOSE_POLICY, "token expired: sign in again")
            for agent_id, calls in list(self._access.items()):
                for call_id, access in list(calls.items()):
                    if access.ended_at is not None and now - access.ended_at > self._grace:
                        del calls[call_id]
                if not calls:
                    del self._access[agent_id]
