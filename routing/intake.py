"""Bus events in, routing-core requests out: the router's view of the PBX.

Consumed (one ordered fan-out subscription):
- "call": call.ivr_completed (the IVR chose a queue: the router may pre-route while the
  IVR still talks), call.queued (a caller entered hold-<queue>: the snapshot gives skill,
  priority, customer, tier, language), call.agent_no_answer (DialEnd NOANSWER/BUSY/... of an offer),
  call.answered, call.ended, call.callback_requested, call.overflowed (dialplan fallback);
- "pbx": device.state (agent presence), queue.left, pbx.connected (rebuild from
  Asterisk's holding queues and bridges, then decide again: routing/pbx/rebuild.py);
- "offer": offer.delivered (the agent desktop shows the screen-pop).
Events of a callback attempt (Linkedid hlcb-...) go to routing/pbx/callbacks.py. Events of a
Twilio caller ("via": "twilio", call_id = CallSid) are never pre-routed nor offered through
Asterisk: its call.queued enqueues it only when Twilio can ring our agents
(routing/pbx/twilio_offers.py), else it is left to Twilio's queue. A call the bridge found in
its resync (snapshot `resynced`: it began before this process) that the router does not
know is restored from Asterisk and the call log when it queues or an agent answers it
(routing/pbx/rebuild.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cti.events import VIA_TWILIO
from kernel import topics
from kernel.config.pbx import WEBRTC_ENDPOINT_SUFFIX
from routing.context import RoutingContext
from routing.core.model import CallKind
from routing.core.presence import DeviceMap, presence_of
from routing.pbx.astdb import forget as forget_astdb
from routing.pbx.callbacks import Callbacks
from routing.pbx.dispatcher import Dispatcher
from routing.pbx.rebuild import Rebuilder
from routing.pbx.restore import keep_known

log = logging.getLogger("routing")

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Intake:
    def __init__(self, ctx: RoutingContext, dispatcher: Dispatcher, callbacks: Callbacks) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.callbacks = callbacks
        contract = ctx.settings.pbx.dialplan
        self.devices = DeviceMap(contract.agent_endpoint)
        self.prefix = contract.holding_queue_prefix
        self.rebuilder = Rebuilder(ctx, dispatcher, callbacks, self._holding_queue)
        # The last state of every device Asterisk reported (a phone chosen later starts
        # from what it was).
        self.device_states: dict[str, str] = {}
        self.handlers: dict[tuple[str, str], Handler] = {
            (topics.CALL, "call.ivr_completed"): self._ivr_completed,
            (topics.CALL, "call.queued"): self._queued,
            (topics.CALL, "call.offered"): self._offered,
            (topics.CALL, "call.agent_no_answer"): self._no_answer,
            (topics.CALL, "call.answered"): self._answered,
            (topics.CALL, "call.ended"): self._ended,
            (topics.CALL, "call.callback_requested"): self._callback_requested,
            (topics.CALL, "call.overflowed"): self._overflowed,
            (topics.PBX, "device.state"): self._device,
            (topics.PBX, "queue.left"): self._queue_left,
            (topics.PBX, "pbx.connected"): self._connected,
            (topics.OFFER, "offer.delivered"): self._delivered,
            (topics.CAMPAIGN, "campaign.preview_decision"): self._preview_decision,
        }

    async def handle(self, topic: str, event: dict[str, Any]) -> None:
        if topic == topics.CALL:
            self._note_node(event)  # before its handler: an offer may follow at once
        handler = self.handlers.get((topic, str(event.get("type", ""))))
        if handler is not None:
            await handler(event)

    def _note_node(self, e: dict[str, Any]) -> None:
        """Which Asterisk a call is on (the bridge tags its events), from its first
        event on: the IVR's events name no node, and pre-routing (call.ivr_completed)
        must already dial an agent on another node through the trunk. Forgotten with
        the call (call.ended)."""
        node, call_id = e.get("pbx_node"), e.get("call_id")
        if node and call_id and e.get("type") != "call.ended" and self.ctx.settings.pbx.several:
            self.ctx.live.get(str(call_id)).node = str(node)

    def _holding_queue(self, name: str) -> str | None:
        if not name.startswith(self.prefix):
            return None
        queue = name[len(self.prefix) :]
        return queue if queue in self.ctx.router.plan.by_name else None

    # -- calls -------------------------------------------------------------------------------

    async def _queued(self, e: dict[str, Any]) -> None:
        if e.get("via") == VIA_TWILIO:
            await self._twilio_queued(e)
            return
        queue = self._holding_queue(str(e.get("queue", "")))
        if queue is None:
            return
        linkedid, call = str(e["call_id"]), e.get("call") or {}
        live = self.ctx.live.get(linkedid)
        # A resynced snapshot knows less than the restore from Asterisk and the call log.
        live.queue = queue
        live.snapshot = keep_known(live.snapshot, call) if call.get("resynced") else call
        live.channel = e.get("channel") or live.channel
        live.uniqueid = e.get("uniqueid") or live.uniqueid
        core, router = self.ctx.live.core_id(linkedid), self.ctx.router
        if core in router.talking:
            return
        if call.get("resynced") and core not in router.calls:
            await self.rebuilder.restore_queued(e, queue)
            return
        known = router.calls.get(core)
        if known is not None:
            if not known.waiting or router.plan.queues[known.queue].name == queue:
                # Pre-routed (the caller got here before the Setvar: redirect it), back
                # after an unanswered offer (already requeued), or a duplicate.
                self.dispatcher.connector.queued(core)
                return
            await self.ctx.run(router.remove_call, core)  # the dialplan chose another queue
        at = float(e.get("at") or self.ctx.clock.timestamp())
        await self._enqueue(linkedid, queue, call, at)

    async def _twilio_queued(self, e: dict[str, Any]) -> None:
        """A caller waiting in Twilio's queue (event "queue" = our queue's name). Asterisk
        cannot reach it: routed only if Twilio rings our agents, else left to Twilio."""
        if self.dispatcher.twilio is None:
            return
        linkedid, call = str(e["call_id"]), e.get("call") or {}
        queue = str(e.get("queue", ""))
        router, core = self.ctx.router, self.ctx.live.core_id(linkedid)
        if queue not in router.plan.by_name or core in router.calls or core in router.talking:
            return
        live = self.ctx.live.get(linkedid)
        live.queue, live.snapshot = queue, call
        at = float(e.get("at") or self.ctx.clock.timestamp())
        await self._enqueue(linkedid, queue, call, at, kind=CallKind.TWILIO)

    async def _ivr_completed(self, e: dict[str, Any]) -> None:
        """Pre-routing: the router may choose an agent while the IVR still talks."""
        if e.get("via") == VIA_TWILIO:
            return  # no Asterisk channel to pre-route; its call.queued follows at once
        call = e.get("call") or {}
        if call.get("ivr_outcome") not in ("queue", "backend_away"):
            return
        plan, skill = self.ctx.router.plan, str(call.get("skill") or "")
        queue = skill if skill in plan.by_name else None
        if queue is None:
            found = self.ctx.settings.queue_for_skill(skill)
            queue = found.name if found else None
        linkedid = str(e["call_id"])
        if queue is None or self.ctx.live.core_id(linkedid) in self.ctx.router.calls:
            return
        self.ctx.live.get(linkedid).snapshot = call
        at = float(e.get("at") or self.ctx.clock.timestamp())
        await self._enqueue(linkedid, queue, call, at)

    async def _enqueue(
        self,
        linkedid: str,
        queue: str,
        call: dict[str, Any],
        at: float,
        kind: CallKind = CallKind.LIVE,
    ) -> None:
        router = self.ctx.router
        self.rebuilder.arrived(self.ctx.live.core_id(linkedid))
        # Overflow moves an Asterisk channel (dialplan); a Twilio caller stays in line.
        may_overflow = kind is CallKind.LIVE and linkedid not in self.dispatcher.overflowed
        await self.ctx.run(
            router.enqueue,
            self.ctx.live.core_id(linkedid),
            queue,
            priority=router.plan.priority(queue, tier=call.get("tier"), given=call.get("priority")),
            language=call.get("language") or None,
            enqueued_at=float(call.get("queued_at") or at),  # first entry: the place in line
            step_base=at,  # steps count from entering this queue
            predicted_wait=self.dispatcher.estimates.get(queue),
            kind=kind,
            may_overflow=may_overflow,
        )

    def _offered_to(self, core: str, extension: str) -> bool:
        agent = self.ctx.router.offer_for(core)
        return agent is not None and agent.extension == extension

    async def _offered(self, e: dict[str, Any]) -> None:
        live = self.ctx.live.calls.get(str(e["call_id"]))
        if live is not None and e.get("agent"):
            live.rang_at[str(e["agent"])] = float(e.get("at") or self.ctx.clock.timestamp())

    def _rang_long_enough(self, linkedid: str, ext: str, e: dict[str, Any]) -> bool:
        """A NOANSWER long before the offer timeout is no agent's fault: the caller hung
        up (or was moved) just as the phone began to ring."""
        if e.get("status") != "NOANSWER":
            return True  # BUSY, CHANUNAVAIL, CONGESTION: the agent's phone said no
        live = self.ctx.live.calls.get(linkedid)
        began = live.rang_at.get(ext) if live is not None else None
        if began is None:
            return True
        rang = float(e.get("at") or self.ctx.clock.timestamp()) - began
        return rang >= self.ctx.settings.routing.offer_timeout_seconds / 2

    async def _no_answer(self, e: dict[str, Any]) -> None:
        linkedid, ext = str(e["call_id"]), str(e.get("agent") or "")
        core = self.ctx.live.core_id(linkedid)
        campaigns = self.dispatcher.campaigns
        if core in self.callbacks.entries or core in campaigns.entries:
            if self._offered_to(core, ext):
                self.dispatcher.connector.resolved(core)
            if core in campaigns.entries:
                await campaigns.agent_no_answer(core, ext)
            else:
                await self.callbacks.agent_no_answer(core, ext)
        elif self._offered_to(core, ext):
            self._resolved(core)
            if self._rang_long_enough(linkedid, ext, e):
                await self.ctx.run(self.ctx.router.offer_failed, core)
            else:
                await self.ctx.run(self.ctx.router.offer_cancelled, core, requeue=True)

    async def _answered(self, e: dict[str, Any]) -> None:
        linkedid, ext = str(e["call_id"]), str(e.get("agent") or "")
        core = self.ctx.live.core_id(linkedid)
        campaigns = self.dispatcher.campaigns
        if core in self.callbacks.entries or core in campaigns.entries:
            if self._offered_to(core, ext):
                self.dispatcher.connector.resolved(core)
            if core in campaigns.entries:
                await campaigns.answered(core, ext)
            else:
                await self.callbacks.answered(core, ext)
        elif self._offered_to(core, ext):
            self._resolved(core)
            await self.ctx.run(self.ctx.router.answered, core)
            pending = self.callbacks.origins.get(linkedid)
            if pending is not None:
                await self.callbacks.cancel(pending, "answered while waiting")
        elif (e.get("call") or {}).get("resynced") and ext in self.ctx.router.by_extension:
            await self.rebuilder.adopt_answered(e, ext)

    def _resolved(self, core: str) -> None:
        """Asterisk (or Twilio) said how the offer of this call went."""
        self.dispatcher.connector.resolved(core)
        if self.dispatcher.twilio is not None:
            self.dispatcher.twilio.resolved(core)

    async def _ended(self, e: dict[str, Any]) -> None:
        linkedid = str(e["call_id"])
        core = self.ctx.live.core_id(linkedid)
        self.dispatcher.connector.resolved(core)
        if self.dispatcher.twilio is not None:
            await self.dispatcher.twilio.ended(core)  # an agent's phone ringing for it stops
        if core in self.callbacks.entries:
            await self.callbacks.ended(core, linkedid)
        elif core in self.dispatcher.campaigns.entries:
            await self.dispatcher.campaigns.ended(core, linkedid, e)
        else:
            await self.ctx.run(self.ctx.router.call_ended, core)
        self.ctx.live.forget(linkedid)
        self.dispatcher.overflowed.discard(linkedid)
        self.callbacks.origins.pop(linkedid, None)

    async def _callback_requested(self, e: dict[str, Any]) -> None:
        linkedid = str(e["call_id"])
        if linkedid.startswith("hlcb-"):
            return  # a callback's own call: nothing new to call back
        at = float(e.get("at") or self.ctx.clock.timestamp())
        number = str(e.get("number") or "")
        await self.callbacks.requested(linkedid, number, e.get("call") or {}, at)
        if self.ctx.amis:
            self.ctx.spawn(self._forget_astdb(linkedid), "routing-astdb")

    async def _forget_astdb(self, linkedid: str) -> None:
        for ami in self.ctx.amis:  # the node that kept it (any: the key is unique)
            try:
                await forget_astdb(ami, linkedid)
            except Exception as exc:  # harmless: recovery finds the row and skips it
                log.debug("AstDB copy of %s not removed: %s", linkedid, exc)

    async def _overflowed(self, e: dict[str, Any]) -> None:
        # The dialplan's fallback took the caller (maximum wait, or the backend was away).
        core = self.ctx.live.core_id(str(e["call_id"]))
        await self.ctx.run(self.ctx.router.remove_call, core)

    # -- the PBX -----------------------------------------------------------------------------

    async def _device(self, e: dict[str, Any]) -> None:
        device = str(e.get("device", ""))
        self.device_states[device] = str(e.get("state", ""))
        ext = self.devices.extension(device)
        agent = self.ctx.router.by_extension.get(ext) if ext else None
        if agent is not None and agent.phone is not None and agent.phone != device:
            return  # the agent takes calls on another phone (its browser phone)
        if agent is None:
            # An agent's own phone (the browser phone it chose: routing/service.py)
            name = device.rpartition("/")[2].removesuffix(WEBRTC_ENDPOINT_SUFFIX)
            agent = self.ctx.router.by_extension.get(name)
            if agent is None or agent.phone != device:
                return
            ext = agent.extension
        if agent is not None and ext is not None:
            presence = presence_of(str(e.get("state", "")))
            node = e.get("pbx_node")
            if node and not self.ctx.agent_nodes.seen(ext, str(node), presence):
                return  # a node where this phone is not registered
            await self.ctx.run(self.ctx.router.set_presence, agent.agent_id, presence)

    async def _queue_left(self, e: dict[str, Any]) -> None:
        if self._holding_queue(str(e.get("queue", ""))) is None:
            return
        core = self.ctx.live.core_id(str(e.get("call_id", "")))
        call = self.ctx.router.calls.get(core)
        if call is not None and call.waiting and call.kind is CallKind.LIVE:
            # Not our redirect (the call would be offered): someone else moved the caller.
            await self.ctx.run(self.ctx.router.remove_call, core)

    async def _connected(self, e: dict[str, Any]) -> None:
        self.ctx.spawn(self.rebuild(), "routing-rebuild")

    async def _delivered(self, e: dict[str, Any]) -> None:
        try:
            self.dispatcher.acked(int(e["agent_id"]), str(e["call_id"]))
        except (KeyError, TypeError, ValueError):
            log.warning("malformed offer.delivered: %r", e)

    async def _preview_decision(self, e: dict[str, Any]) -> None:
        """An agent's call/skip on a campaign preview (the desk, routing/pbx/campaign_calls.py)."""
        try:
            agent_id, call_id = int(e["agent_id"]), str(e["call_id"])
        except (KeyError, TypeError, ValueError):
            log.warning("malformed campaign.preview_decision: %r", e)
            return
        self.dispatcher.campaigns.decide(agent_id, call_id, str(e.get("decision") or ""))

    async def rebuild(self) -> None:
        """After (re)connecting to Asterisk: its holding queues and bridges are the truth."""
        await self.rebuilder.rebuild()
