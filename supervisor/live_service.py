"""LiveService: the live view of one backend process, fed from the bus, pushed to
supervisors' websockets. A component (async start/stop) taking Services; registers
itself as services.features.live.

    live = LiveService(services); await live.start()
    live.snapshot()                       # GET /api/supervisor/live
    live.attach(listener) / detach(...)   # /ws/supervisor (supervisor/live_api.py)

Bus (fan-out, no group: every API process keeps its own view): "call" (cti domain events
and call.wrapped), "agent" (agent.state), "alert" (tickets/sla.py), "auth" (auth.revoked
closes that token's sockets, auth.user_revoked all of a user's), "pbx" (pbx.connected:
the bridge's resync, with `call_ids`, the Linkedids of every call Asterisk has),
"ticket" and "survey" (the counts below may have changed). It subscribes before reading
the database (today's calls, agents, state history) so nothing in between is lost;
events the rows already contain are dropped by seq (calls) and time (agents).

After a restart the view equals Asterisk and the database: calls read from the database
that Asterisk does not have are not shown waiting or on an agent (supervisor/live_calls.py
reconcile). Where the bridge runs in this process, calls read from the database are
shown only once its resync confirmed them (start this component before the bridge,
hotline/runtime.py, so it hears that resync; started after it, it asks the bridge).
Today's tickets and surveys and the pending callbacks are counted in the database
(supervisor/live_store.py load_counts) at start, on "ticket"/"survey" events and callback
activity, and every `COUNTS_REFRESH` seconds (tickets the router opens publish nothing).

Frames to a socket (JSON text): {"type": "snapshot", ...} (supervisor/live_model.py) at
most `1 / min_interval` per second, when something changed and at least every
`heartbeat` seconds (times in state and waits grow); {"type": "alert", "alert": {...}}
as soon as one is raised, to the supervisors it is addressed to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from cti.commands import PbxError
from desk.push.connection import CLOSE_POLICY, AgentConnection
from desk.push.hub import dumps
from desk.push.replay import Frame
from hotline.services import Services
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from kernel.measures import Histogram, event_age
from supervisor.live_alerts import addressed_to
from supervisor.live_model import DbCounts, LiveConfig, LiveModel
from supervisor.live_store import load_agents, load_calls, load_counts, load_stretches

log = logging.getLogger("hotline.live")
TOPICS = (
    topics.CALL,
    topics.AGENT,
    topics.ALERT,
    topics.AUTH,
    topics.PBX,
    topics.TICKET,
    topics.SURVEY,
)
MODEL_TOPICS = frozenset({topics.CALL, topics.AGENT, topics.ALERT})
SKILLS_REFRESH = 15.0  # seconds between agent skill reloads when no router runs here
COUNTS_REFRESH = 5.0  # seconds between ticket / survey / callback counts at the latest
PBX_SYNC_GRACE = 15.0  # seconds calls read from the database wait for the bridge's resync
CALLBACK_PREFIX = "hlcb-"  # cti/commands.py OriginatePurpose.CALLBACK: a callback attempt


async def snapshot_from_db(services: Services) -> dict[str, Any]:
    """The live view read from the database alone (call log, agent state history), for a
    process where no LiveService runs: correct as of the last rows written, no alerts."""
    now = services.clock.timestamp()
    model = LiveModel(LiveConfig.from_settings(services.settings), now)
    model.load_calls(await load_calls(services.sessions, model.day_start))
    model.load_agents(await load_stretches(services.sessions, model.day_start), now)
    for row in await load_agents(services.sessions):
        model.agents.describe(
            row.agent_id, extension=row.extension, name=row.name, skills=row.skills
        )
    model.set_counts(await _counts(services, model))
    if services.pbx is not None:  # the calls Asterisk has: no ghost callers
        with contextlib.suppress(PbxError):
            model.reconcile({c.linkedid for c in await services.pbx.channels()}, now)
    model.tick(now)
    snap = model.snapshot(now)
    snap["alerts"] = []  # alerts are events: only a running LiveService has heard them
    return snap


async def _counts(services: Services, model: LiveModel) -> DbCounts:
    day = model.day_start.astimezone(model.zone).date()
    return await load_counts(services.sessions, day, model.config.timezone)


@dataclass(eq=False)
class Listener:
    """One supervisor socket: its bounded queue and sender (desk/push/connection.py)."""

    conn: AgentConnection

    def send(self, data: dict[str, Any], now: float) -> None:
        self.conn.push(Frame(0, "", now, text=dumps(data)))


class LiveService:
    def __init__(
        self, services: Services, *, min_interval: float = 0.5, heartbeat: float = 5.0
    ) -> None:
        self.services = services
        self.model = LiveModel(
            LiveConfig.from_settings(services.settings), services.clock.timestamp()
        )
        self.min_interval = min_interval
        self.heartbeat = heartbeat
        self.listeners: set[Listener] = set()
        self._dirty = asyncio.Event()
        self._recount = False  # tickets, surveys or callbacks may have changed
        self._started_at = services.clock.timestamp()
        self._sub: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.applied = 0
        # An event's time (Asterisk's, for call events) -> heard here (ops/metrics.py).
        self.bus_lag = Histogram()
        services.features.live = self

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._sub = await self.services.bus.subscribe(*TOPICS)
        now = self._started_at = self.services.clock.timestamp()
        sessions = self.services.sessions
        self.model.load_calls(await load_calls(sessions, self.model.day_start))
        self.model.load_agents(await load_stretches(sessions, self.model.day_start), now)
        self.model.set_counts(await _counts(self.services, self.model))
        await self._refresh_agents()
        self._check_pbx(now)
        self._tasks = [
            asyncio.create_task(self._consume(self._sub), name="live-consume"),
            asyncio.create_task(self._publish(), name="live-publish"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._sub is not None:
            await self._sub.close()
            self._sub = None
        for listener in list(self.listeners):
            listener.conn.close(1001, "server shutting down")
        self.listeners.clear()

    # -- listeners -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        now = self.services.clock.timestamp()
        self._check_pbx(now)
        return self.model.snapshot(now)

    def attach(self, listener: Listener) -> None:
        """A new socket gets the snapshot at once, then the updates."""
        self.listeners.add(listener)
        self._send_snapshot({listener}, self.snapshot())

    def detach(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def _send_snapshot(self, listeners: set[Listener], snap: dict[str, Any]) -> None:
        alerts = snap.pop("alerts")
        now = float(snap["at"])
        for listener in listeners:
            p = listener.conn.principal
            mine = [a for a in alerts if addressed_to(a, p.role.value, p.id)]
            listener.send({**snap, "alerts": mine}, now)

    def _send_alerts(self, alerts: list[dict[str, Any]], now: float) -> None:
        for alert in alerts:
            for listener in list(self.listeners):
                p = listener.conn.principal
                if addressed_to(alert, p.role.value, p.id):
                    listener.send({"type": "alert", "alert": alert}, now)

    # -- loops -----------------------------------------------------------------------------

    async def _consume(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            lag = event_age(msg.data.get("at"), self.services.clock.timestamp())
            if lag is not None:
                self.bus_lag.observe(lag)
            try:
                self._apply(msg.topic, msg.data)
            except Exception:  # one odd event must not stop the wallboard
                log.exception("live view: event on %r not applied", msg.topic)

    def _apply(self, topic: str, data: dict[str, Any]) -> None:
        if topic == topics.AUTH:
            if data.get("type") == "auth.revoked":
                for listener in list(self.listeners):
                    if listener.conn.principal.token_id == data.get("jti"):
                        listener.conn.close(CLOSE_POLICY, "signed out")
            elif data.get("type") == "auth.user_revoked":  # disabled or reset (admin/)
                for listener in list(self.listeners):
                    if listener.conn.principal.id == data.get("user_id"):
                        listener.conn.close(CLOSE_POLICY, "account disabled or reset")
            return
        now = self.services.clock.timestamp()
        if topic not in MODEL_TOPICS:
            if topic == topics.PBX and data.get("type") == "pbx.connected":
                self._resynced(data.get("call_ids"), now, data.get("pbx_node"))
                self._recount = True  # callbacks the dialplan kept while we were away
            elif topic in ("ticket", "survey"):
                self._recount = True
            else:
                return  # device states and the like: nothing the view shows
            self._dirty.set()
            return
        if topic == topics.CALL and _touches_callbacks(data):
            self._recount = True
        alerts = self.model.apply(topic, data, now)
        self.applied += 1
        self._send_alerts(alerts, now)
        self._dirty.set()

    async def _publish(self) -> None:
        loop = asyncio.get_running_loop()
        reloaded = counted = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self.heartbeat)
            self._dirty.clear()
            try:
                now = self.services.clock.timestamp()
                self._expire(now)
                self._routing_skills()
                if loop.time() - reloaded >= SKILLS_REFRESH:
                    reloaded = loop.time()
                    await self._refresh_agents()
                day = self.model.day_start
                alerts = self.model.tick(now)
                if (
                    self._recount
                    or day != self.model.day_start
                    or (loop.time() - counted >= COUNTS_REFRESH)
                ):
                    self._recount, counted = False, loop.time()
                    self.model.set_counts(await _counts(self.services, self.model))
                self._check_pbx(now)
                self._send_alerts(alerts, now)
                if self.listeners:
                    self._send_snapshot(set(self.listeners), self.model.snapshot(now))
            except Exception:
                log.exception("live view: snapshot failed")
            await asyncio.sleep(self.min_interval)  # the throttle: <= 1 / min_interval per s

    # -- Asterisk's view ------------------------------------------------------------------

    def _resynced(self, call_ids: Any, now: float, node: Any = None) -> None:
        """pbx.connected: the bridge (of any process) reconciled with its Asterisk."""
        if isinstance(call_ids, list):
            lost = self.model.reconcile(
                {str(c) for c in call_ids}, now, str(node) if node else None
            )
            if lost:
                log.info("live view: %d call(s) in progress that Asterisk no longer has", len(lost))

    def _check_pbx(self, now: float) -> None:
        """Where a bridge is in this process, calls read from the database wait for its
        resync to be shown (at most PBX_SYNC_GRACE seconds: the bridge may not be the
        elected one, or Asterisk may be away; pbx.connected reconciles them later); a
        resync that happened before this view subscribed is read from the bridge."""
        bridges = self.services.features.bridges
        if not bridges or self.model.pbx_synced_at is not None:
            return
        if all(b.resyncs > 0 for b in bridges):
            for b in bridges:
                self._resynced([c["call_id"] for c in b.live_calls()], now, b.node)
        else:
            self.model.awaiting_pbx = now - self._started_at < PBX_SYNC_GRACE

    def _expire(self, now: float) -> None:
        for listener in list(self.listeners):
            if listener.conn.expires_at <= now:
                listener.conn.close(CLOSE_POLICY, "token expired: sign in again")

    def _routing_skills(self) -> None:
        """Skills from the router of this process when it runs here: live changes."""
        routing = self.services.features.routing
        if routing is None:
            return
        for view in routing.agents():
            entry = self.model.agents.agent(int(view["agent_id"]))
            entry.skills = dict(view.get("skills") or {})
            entry.extension = view.get("extension") or entry.extension

    async def _refresh_agents(self) -> None:
        """Names, extensions and (without a router here) skills from the database."""
        routed = self.services.features.routing is not None
        for row in await load_agents(self.services.sessions):
            entry = self.model.agents.agent(row.agent_id)
            skills = entry.skills if routed and entry.skills else row.skills
            self.model.agents.describe(
                row.agent_id, extension=row.extension, name=row.name, skills=skills
            )
        self._routing_skills()


def _touches_callbacks(event: dict[str, Any]) -> bool:
    """A call event after which the router changes callback_requests rows: a request,
    or an attempt (Linkedid hlcb-...) progressing."""
    call_id = str(event.get("call_id") or event.get("linkedid") or "")
    return event.get("type") == "call.callback_requested" or call_id.startswith(CALLBACK_PREFIX)
