"""LiveService: the live view of one backend process, fed from the bus, pushed to
supervisors' websockets. A component (async start/stop) taking Services; registers
itself as services.extras["live"].

    live = LiveService(services); await live.start()
    live.snapshot()                       # GET /api/supervisor/live
    live.attach(listener) / detach(...)   # /ws/supervisor (supervisor/live_api.py)

Bus (fan-out, no group: every API process keeps its own view): "call" (cti domain
events and call.wrapped), "agent" (agent.state), "alert" (tickets/sla.py), "auth"
(auth.revoked closes that token's sockets). It subscribes before reading the database
(today's calls, agents, state history) so nothing in between is lost; events the rows
already contain are dropped by seq (calls) and time (agents).

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

from agent_api.push.connection import CLOSE_POLICY, AgentConnection
from agent_api.push.hub import dumps
from agent_api.push.replay import Frame
from hotline.bus.port import BusClosed, Subscription
from hotline.services import Services
from supervisor.live_alerts import addressed_to
from supervisor.live_model import LiveConfig, LiveModel
from supervisor.live_store import load_agents, load_calls, load_stretches

log = logging.getLogger("hotline.live")
TOPICS = ("call", "agent", "alert", "auth")
SKILLS_REFRESH = 15.0  # seconds between agent skill reloads when no router runs here


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
    model.tick(now)
    snap = model.snapshot(now)
    snap["alerts"] = []  # alerts are events: only a running LiveService has heard them
    return snap


@dataclass(eq=False)
class Listener:
    """One supervisor socket: its bounded queue and sender (agent_api's connection)."""

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
        self._sub: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.applied = 0
        services.extras["live"] = self

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._sub = await self.services.bus.subscribe(*TOPICS)
        now = self.services.clock.timestamp()
        sessions = self.services.sessions
        self.model.load_calls(await load_calls(sessions, self.model.day_start))
        self.model.load_agents(await load_stretches(sessions, self.model.day_start), now)
        await self._refresh_agents()
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
        return self.model.snapshot(self.services.clock.timestamp())

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
            try:
                self._apply(msg.topic, msg.data)
            except Exception:  # one odd event must not stop the wallboard
                log.exception("live view: event on %r not applied", msg.topic)

    def _apply(self, topic: str, data: dict[str, Any]) -> None:
        if topic == "auth":
            if data.get("type") == "auth.revoked":
                for listener in list(self.listeners):
                    if listener.conn.principal.token_id == data.get("jti"):
                        listener.conn.close(CLOSE_POLICY, "signed out")
            return
        now = self.services.clock.timestamp()
        alerts = self.model.apply(topic, data, now)
        self.applied += 1
        self._send_alerts(alerts, now)
        self._dirty.set()

    async def _publish(self) -> None:
        loop = asyncio.get_running_loop()
        reloaded = loop.time()
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
                self._send_alerts(self.model.tick(now), now)
                if self.listeners:
                    self._send_snapshot(set(self.listeners), self.model.snapshot(now))
            except Exception:
                log.exception("live view: snapshot failed")
            await asyncio.sleep(self.min_interval)  # the throttle: <= 1 / min_interval per s

    def _expire(self, now: float) -> None:
        for listener in list(self.listeners):
            if listener.conn.expires_at <= now:
                listener.conn.close(CLOSE_POLICY, "token expired: sign in again")

    def _routing_skills(self) -> None:
        """Skills from the router of this process when it runs here: live changes."""
        routing = self.services.extras.get("routing")
        if routing is None:
            return
        for view in routing.agents():
            entry = self.model.agents.agent(int(view["agent_id"]))
            entry.skills = dict(view.get("skills") or {})
            entry.extension = view.get("extension") or entry.extension

    async def _refresh_agents(self) -> None:
        """Names, extensions and (without a router here) skills from the database."""
        routed = "routing" in self.services.extras
        for row in await load_agents(self.services.sessions):
            entry = self.model.agents.agent(row.agent_id)
            skills = entry.skills if routed and entry.skills else row.skills
            self.model.agents.describe(
                row.agent_id, extension=row.extension, name=row.name, skills=skills
            )
        self._routing_skills()
