"""RoutingService: the router on Asterisk, as one component for the composition root.

    service = RoutingService(services)      # needs services.pbx (the CTI bridge's commands)
    await service.start()                   # agents from the DB, callbacks, bus consumer;
                                            # offers once rebuilt from Asterisk
    await service.ready(agent_id)           # what the agent API calls
    service.waiting_calls(); service.queues()
    await service.stop()

Registers itself as services.features.routing. Run exactly one per Asterisk (where the
CTI bridge runs): two routers would offer the same callers twice.

Callers who came in through Twilio are offered through Twilio (routing/pbx/twilio_offers.py)
when services.features.twilio_agents is given, else never.

Bus: consumes "call", "pbx", "offer" (routing/intake.py); publishes "agent"
(agent.state), "offer" (offer) and "call" (call.wrapped) (routing/pbx/dispatcher.py).
Domain errors (routing.core.model: IllegalTransition, UnknownAgent, UnknownCall,
UnknownReason, UnknownQueue) are for the agent API to map to HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from cti.commands import PbxError
from cti.nodes import NodeDialling
from hotline.services import Services
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from kernel.config.pbx import browser_endpoint
from kernel.lifecycle import cancel_and_wait, stop_within
from routing.callback_store import CallbackStore
from routing.context import RoutingContext
from routing.core.model import AgentState, UnknownAgent, UnknownCall
from routing.core.plan import RoutingPlan
from routing.core.presence import AgentNodes, presence_of
from routing.core.router import Router
from routing.core.views import agent_view, call_view, queue_view
from routing.intake import Intake
from routing.pbx.announcer import WaitAnnouncer
from routing.pbx.callbacks import Callbacks
from routing.pbx.campaign_calls import CampaignCalls
from routing.pbx.dispatcher import Dispatcher
from routing.store import RoutingStore

STEP_SECONDS = 5.0  # each step of stop()

log = logging.getLogger("routing")
BUSY_STATES = frozenset(
    {AgentState.RESERVED.value, AgentState.ON_CALL.value, AgentState.WRAP_UP.value}
)


class RoutingService:
    def __init__(self, services: Services) -> None:
        if services.pbx is None:
            raise RuntimeError("routing needs the PBX link (services.pbx): run it with the bridge")
        s = services.settings
        self.services = services
        self.router = Router(RoutingPlan.from_settings(s), services.clock)
        self.store = RoutingStore(services.sessions)
        self.ctx = RoutingContext(
            s,
            self.router,
            services.bus,
            services.pbx,
            services.clock,
            self.store,
            CallbackStore(services.sessions, s),
            amis=[b.client for b in services.features.bridges],
            # Built by hotline/wiring.py when twilio.agent_sip_uri is set.
            twilio=services.features.twilio_agents,
        )
        self.ctx.agent_nodes = AgentNodes(NodeDialling(s.pbx).home)
        self.callbacks = Callbacks(self.ctx)
        # Agent campaigns' calls (campaigns/agent_dialer.py places them through these).
        self.campaign_calls = CampaignCalls(self.ctx)
        self.dispatcher = Dispatcher(self.ctx, self.callbacks, self.campaign_calls)
        self.ctx.apply = self.dispatcher.apply
        self.intake = Intake(self.ctx, self.dispatcher, self.callbacks)
        self.announcer = WaitAnnouncer(self.ctx, self.dispatcher)
        self._sub: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        services.features.routing = self

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.store.start()
        # Subscribe first: nothing that happens while agents load is missed.
        self._sub = await self.ctx.bus.subscribe(
            topics.CALL, topics.PBX, topics.OFFER, topics.CAMPAIGN
        )
        # Nothing is offered before the first rebuild (routing/pbx/rebuild.py) has seen which
        # agents Asterisk still has on a call and which callers wait where.
        await self.ctx.run(self.router.suspend)
        await self.reload_agents()
        await self.callbacks.load()
        await self.announcer.refresh()
        self._tasks = [
            asyncio.create_task(self._consume(self._sub), name="routing-intake"),
            asyncio.create_task(self._deadlines(), name="routing-deadlines"),
            asyncio.create_task(self.announcer.run(), name="routing-announcer"),
        ]
        self.ctx.spawn(self.intake.rebuild(), "routing-rebuild")  # the bridge may be up already

    async def stop(self) -> None:
        # Every step is bounded (kernel/lifecycle.py): a consumer stuck on the bus, a
        # Twilio client or a store that does not answer cannot hold the process open.
        self.callbacks.stop()
        self.campaign_calls.stop()
        await cancel_and_wait([*self._tasks, *self.ctx.tasks], what="routing service")
        self._tasks.clear()
        if self._sub is not None:
            await stop_within(self._sub.close(), STEP_SECONDS, "routing bus subscription")
            self._sub = None
        if self.ctx.twilio is not None:
            await stop_within(self.ctx.twilio.close(), STEP_SECONDS, "routing Twilio client")
        await stop_within(self.store.stop(), STEP_SECONDS, "routing store")

    async def _consume(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            try:
                await self.intake.handle(msg.topic, msg.data)
            except Exception:
                log.exception("routing could not handle %s %s", msg.topic, msg.data.get("type"))

    async def _deadlines(self) -> None:
        """Step timeouts and wrap-up ends, on time."""
        router, clock, wake = self.router, self.ctx.clock, self.ctx.wake
        while True:
            deadline = router.next_deadline()
            delay = None if deadline is None else max(0.0, deadline - clock.timestamp())
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
            try:
                await self.dispatcher.apply(router.tick())
            except Exception:
                log.exception("routing deadlines failed")

    async def reload_agents(self) -> None:
        """(Re)read agents and skills from the DB; a restarted backend restores each
        agent's last recorded state. Agents recorded busy (reserved, on a call, wrapping
        up) are signed in by the next rebuild: on their call if Asterisk still bridges
        them with it, else ready."""
        default = [self.ctx.settings.center.default_language]
        for rec in await self.store.load_agents():
            languages = rec.languages or default
            known = rec.agent_id in self.router.agents
            await self.ctx.run(
                self.router.add_agent, rec.agent_id, rec.extension, rec.skills, languages
            )
            if known or rec.state in (None, AgentState.LOGGED_OUT.value):
                continue
            if rec.state in BUSY_STATES:
                self.intake.rebuilder.held.add(rec.agent_id)
            elif rec.state == AgentState.NOT_READY.value:
                await self.ctx.run(self.router.login, rec.agent_id)
                if rec.reason in self.router.plan.not_ready_reasons:
                    reason = rec.reason
                    await self.ctx.run(self.router.not_ready, rec.agent_id, reason)
            else:
                await self.ctx.run(self.router.login, rec.agent_id, ready=True)

    # -- agent commands (the agent API calls these) -----------------------------------------------

    async def login(self, agent_id: int, *, ready: bool = False) -> None:
        await self.ctx.run(self.router.login, agent_id, ready=ready)

    async def ready(self, agent_id: int) -> None:
        await self.ctx.run(self.router.ready, agent_id)

    async def not_ready(self, agent_id: int, reason: str) -> None:
        await self.ctx.run(self.router.not_ready, agent_id, reason)

    async def wrap_done(self, agent_id: int, code: str | None = None) -> None:
        await self.ctx.run(self.router.wrap_done, agent_id, code)

    async def logout(self, agent_id: int) -> None:
        await self.ctx.run(self.router.logout, agent_id)

    async def set_phone(self, agent_id: int, phone: str) -> None:
        """`browser`: the agent takes calls on its browser phone (PJSIP endpoint
        <extension>-web, registered over WebSocket by the desk): offers dial it, and its
        registration is the agent's presence (gone: not ready, no offers). `desk`: the
        configured endpoint (pbx.dialplan.agent_endpoint) as before."""
        agent = self.router.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(str(agent_id))
        device = f"PJSIP/{browser_endpoint(agent.extension)}" if phone == "browser" else None
        state = self.intake.device_states.get(device or "")
        if device is not None and state is None:
            # Not reported since this process began: ask Asterisk (a phone registered
            # before the bridge connected, or never).
            with contextlib.suppress(PbxError):
                state = await self.ctx.pbx.get_var("", f"DEVICE_STATE({device})")
        await self.ctx.run(self.router.set_phone, agent_id, device, presence_of(state or ""))

    async def demo_sign_in(self, extension: str) -> None:
        """Sign the agent of an extension in, ready (the demo's simulated agents)."""
        agent = self.router.by_extension.get(extension)
        if agent is None:
            raise UnknownAgent(f"no agent with extension {extension}")
        await self.login(agent.agent_id, ready=True)

    async def set_skills(
        self,
        agent_id: int,
        skills: Mapping[str, int],
        languages: Iterable[str] | None = None,
        *,
        persist: bool = True,
    ) -> None:
        """Live: the next decision uses them; stored in agent_skills unless persist=False."""
        unknown = set(skills) - self.ctx.settings.skill_names()
        if unknown:
            raise ValueError(f"unknown skill(s): {', '.join(sorted(unknown))}")
        await self.ctx.run(self.router.set_skills, agent_id, skills, languages)
        if persist:
            await self.store.save_skills(agent_id, skills)

    async def set_call_priority(self, call_id: str, priority: int) -> None:
        """A supervisor raises (or lowers) a waiting call; call_id is its Linkedid."""
        await self.ctx.run(self.router.set_priority, self.ctx.live.core_id(call_id), priority)

    # -- call control from the desk (callcontrol/service.py) --------------------------------

    def call_queue(self, linkedid: str) -> str | None:
        """The queue a live call came through (its agent's wrap-up counts for it)."""
        core = self.ctx.live.core_id(linkedid)
        agent_id = self.router.talking.get(core)
        if agent_id is not None and self.router.agents[agent_id].call_queue >= 0:
            return self.router.plan.queues[self.router.agents[agent_id].call_queue].name
        live = self.ctx.live.calls.get(linkedid)
        return live.queue if live is not None else None

    def agent_on_call(self, linkedid: str) -> int | None:
        return self.router.talking.get(self.ctx.live.core_id(linkedid))

    async def transferred_away(self, linkedid: str) -> None:
        await self.ctx.run(self.router.transferred_away, self.ctx.live.core_id(linkedid))

    async def transfer_to(self, linkedid: str, extension: str, queue: str) -> int:
        """Offer the call to the agent of `extension` now (a blind transfer)."""
        agent = self.router.by_extension.get(extension)
        if agent is None:
            raise UnknownAgent(f"no agent with extension {extension}")
        live = self.ctx.live.get(linkedid)
        snap = live.snapshot
        plan = self.router.plan
        priority = plan.priority(queue, tier=snap.get("tier"), given=snap.get("priority"))
        await self.ctx.run(
            self.router.transfer_to,
            self.ctx.live.core_id(linkedid),
            agent.agent_id,
            queue,
            priority=priority,
            language=snap.get("language") or None,
            enqueued_at=snap.get("queued_at"),
        )
        live.queue = live.queue or queue
        return agent.agent_id

    async def hand_over(self, linkedid: str, extension: str | None, queue: str) -> None:
        agent = self.router.by_extension.get(extension) if extension else None
        await self.ctx.run(
            self.router.hand_over,
            self.ctx.live.core_id(linkedid),
            agent.agent_id if agent is not None else None,
            queue,
        )

    # -- queries -----------------------------------------------------------------------------

    def agents(self) -> list[dict[str, Any]]:
        now = self.ctx.clock.timestamp()
        return [agent_view(a, now) for a in sorted(self.router.agents.values(), key=_agent_id)]

    def agent(self, agent_id: int) -> dict[str, Any]:
        agent = self.router.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(str(agent_id))
        return agent_view(agent, self.ctx.clock.timestamp())

    def waiting_calls(self, queue: str | None = None) -> list[dict[str, Any]]:
        """Waiting calls in line order, each with its own estimated remaining wait."""
        from routing.core.ewt import estimate

        now, router = self.ctx.clock.timestamp(), self.router
        names = [queue] if queue else [q.name for q in router.plan.queues]
        estimates: dict[str, float | None] = {}
        for name in names:
            estimates.update(estimate(router, name).callers)
        return [
            call_view(c, router.plan.queues[c.queue].name, self.ctx.live, estimates, now)
            for c in router.waiting_calls(queue)
        ]

    def waiting_call(self, call_id: str) -> dict[str, Any]:
        core = self.ctx.live.core_id(call_id)
        for view in self.waiting_calls():
            if view["core_id"] == core:
                return view
        raise UnknownCall(call_id)

    def queues(self) -> list[dict[str, Any]]:
        """Per queue: waiting, agents, estimated wait for a new caller, service level."""
        from routing.core.ewt import estimate_all

        estimates = estimate_all(self.router)
        return [
            queue_view(q, self.router.stats[q.index], estimates[q.name])
            for q in self.router.plan.queues
        ]

    def estimated_wait(self, queue: str) -> float | None:
        from routing.core.ewt import estimate

        return estimate(self.router, queue).new_caller_seconds


def _agent_id(agent: Any) -> int:
    return int(agent.agent_id)
