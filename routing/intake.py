"""Bus events in, routing-core requests out: the router's view of the PBX.

Consumed (one ordered fan-out subscription):
- "call": call.ivr_completed (the IVR chose a queue: the router may pre-route while the
  IVR still talks), call.queued (a caller entered hold-<queue>: the snapshot gives skill,
  priority, customer, tier, language), call.agent_no_answer (DialEnd NOANSWER/BUSY/... of an offer),
  call.answered, call.ended, call.callback_requested, call.overflowed (dialplan fallback);
- "pbx": device.state (agent presence), queue.left, pbx.connected (rebuild the waiting
  calls from Asterisk's holding queues, then decide again);
- "offer": offer.delivered (the agent desktop shows the screen-pop).
Events of a callback attempt (Linkedid hlcb-...) go to routing/callbacks.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cti.commands import PbxError
from routing.astdb import forget as forget_astdb
from routing.astdb import recover_callbacks
from routing.callbacks import Callbacks
from routing.context import TOPIC_CALL, TOPIC_OFFER, TOPIC_PBX, RoutingContext
from routing.dispatcher import Dispatcher
from routing.model import CallKind
from routing.presence import DeviceMap, presence_of
from routing.queue_prio import from_queue_prio

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
        self._rebuilding = asyncio.Lock()
        self.handlers: dict[tuple[str, str], Handler] = {
            (TOPIC_CALL, "call.ivr_completed"): self._ivr_completed,
            (TOPIC_CALL, "call.queued"): self._queued,
            (TOPIC_CALL, "call.offered"): self._offered,
            (TOPIC_CALL, "call.agent_no_answer"): self._no_answer,
            (TOPIC_CALL, "call.answered"): self._answered,
            (TOPIC_CALL, "call.ended"): self._ended,
            (TOPIC_CALL, "call.callback_requested"): self._callback_requested,
            (TOPIC_CALL, "call.overflowed"): self._overflowed,
            (TOPIC_PBX, "device.state"): self._device,
            (TOPIC_PBX, "queue.left"): self._queue_left,
            (TOPIC_PBX, "pbx.connected"): self._connected,
            (TOPIC_OFFER, "offer.delivered"): self._delivered,
        }

    async def handle(self, topic: str, event: dict[str, Any]) -> None:
        handler = self.handlers.get((topic, str(event.get("type", ""))))
        if handler is not None:
            await handler(event)

    def _holding_queue(self, name: str) -> str | None:
        if not name.startswith(self.prefix):
            return None
        queue = name[len(self.prefix) :]
        return queue if queue in self.ctx.router.plan.by_name else None

    # -- calls -------------------------------------------------------------------------------

    async def _queued(self, e: dict[str, Any]) -> None:
        queue = self._holding_queue(str(e.get("queue", "")))
        if queue is None:
            return
        linkedid, call = str(e["call_id"]), e.get("call") or {}
        live = self.ctx.live.get(linkedid)
        live.queue, live.snapshot = queue, call
        live.channel = e.get("channel") or live.channel
        live.uniqueid = e.get("uniqueid") or live.uniqueid
        core, router = self.ctx.live.core_id(linkedid), self.ctx.router
        if core in router.talking:
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

    async def _ivr_completed(self, e: dict[str, Any]) -> None:
        """Pre-routing: the router may choose an agent while the IVR still talks."""
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

    async def _enqueue(self, linkedid: str, queue: str, call: dict[str, Any], at: float) -> None:
        router = self.ctx.router
        await self.ctx.run(
            router.enqueue,
            self.ctx.live.core_id(linkedid),
            queue,
            priority=router.plan.priority(queue, tier=call.get("tier"), given=call.get("priority")),
            language=call.get("language") or None,
            enqueued_at=float(call.get("queued_at") or at),  # first entry: the place in line
            step_base=at,  # steps count from entering this queue
            predicted_wait=self.dispatcher.estimates.get(queue),
            may_overflow=linkedid not in self.dispatcher.overflowed,
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
        if core in self.callbacks.entries:
            if self._offered_to(core, ext):
                self.dispatcher.connector.resolved(core)
            await self.callbacks.agent_no_answer(core, ext)
        elif self._offered_to(core, ext):
            self.dispatcher.connector.resolved(core)
            if self._rang_long_enough(linkedid, ext, e):
                await self.ctx.run(self.ctx.router.offer_failed, core)
            else:
                await self.ctx.run(self.ctx.router.offer_cancelled, core, requeue=True)

    async def _answered(self, e: dict[str, Any]) -> None:
        linkedid, ext = str(e["call_id"]), str(e.get("agent") or "")
        core = self.ctx.live.core_id(linkedid)
        if core in self.callbacks.entries:
            if self._offered_to(core, ext):
                self.dispatcher.connector.resolved(core)
            await self.callbacks.answered(core, ext)
        elif self._offered_to(core, ext):
            self.dispatcher.connector.resolved(core)
            await self.ctx.run(self.ctx.router.answered, core)
            pending = self.callbacks.origins.get(linkedid)
            if pending is not None:
                await self.callbacks.cancel(pending, "answered while waiting")

    async def _ended(self, e: dict[str, Any]) -> None:
        linkedid = str(e["call_id"])
        core = self.ctx.live.core_id(linkedid)
        self.dispatcher.connector.resolved(core)
        if core in self.callbacks.entries:
            await self.callbacks.ended(core, linkedid)
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
        if self.ctx.ami is not None:
            self.ctx.spawn(self._forget_astdb(linkedid), "routing-astdb")

    async def _forget_astdb(self, linkedid: str) -> None:
        try:
            await forget_astdb(self.ctx.ami, linkedid)
        except Exception as exc:  # harmless: recovery finds the row and skips it
            log.debug("AstDB copy of %s not removed: %s", linkedid, exc)

    async def _overflowed(self, e: dict[str, Any]) -> None:
        # The dialplan's fallback took the caller (maximum wait, or the backend was away).
        core = self.ctx.live.core_id(str(e["call_id"]))
        await self.ctx.run(self.ctx.router.remove_call, core)

    # -- the PBX -----------------------------------------------------------------------------

    async def _device(self, e: dict[str, Any]) -> None:
        ext = self.devices.extension(str(e.get("device", "")))
        agent = self.ctx.router.by_extension.get(ext) if ext else None
        if agent is not None:
            presence = presence_of(str(e.get("state", "")))
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

    async def recover(self) -> None:
        """Callback requests the dialplan kept in AstDB while nobody listened."""
        if self.ctx.ami is None:
            return
        try:
            await recover_callbacks(self.ctx.ami, self.callbacks)
        except Exception as exc:  # AMI errors and unreadable values alike: retried next time
            log.warning("recovering callbacks from AstDB failed: %s", exc)

    async def _delivered(self, e: dict[str, Any]) -> None:
        try:
            self.dispatcher.acked(int(e["agent_id"]), str(e["call_id"]))
        except (KeyError, TypeError, ValueError):
            log.warning("malformed offer.delivered: %r", e)

    async def rebuild(self) -> None:
        """After (re)connecting to Asterisk: its holding queues are the truth."""
        async with self._rebuilding:  # start and pbx.connected may both ask for one
            await self._rebuild()

    async def _rebuild(self) -> None:
        router, pbx = self.ctx.router, self.ctx.pbx
        try:
            entries = await pbx.queue_entries()
            channels = {c.uniqueid: c for c in await pbx.channels()}
        except PbxError as exc:
            log.warning("rebuild from the holding queues failed: %s", exc)
            return
        now, seen = self.ctx.clock.timestamp(), set()
        for entry in entries:
            queue = self._holding_queue(entry.queue)
            if queue is None:
                continue
            chan = channels.get(entry.uniqueid)
            linkedid = chan.linkedid if chan is not None and chan.linkedid else entry.uniqueid
            live = self.ctx.live.get(linkedid)
            live.channel, live.uniqueid, live.queue = entry.channel, entry.uniqueid, queue
            core = self.ctx.live.core_id(linkedid)
            seen.add(core)
            if core in router.calls or core in router.talking:
                continue
            given, head = from_queue_prio(entry.priority)  # the dialplan's QUEUE_PRIO
            snap = live.snapshot
            if snap.get("priority") is not None:
                given = snap["priority"]
            joined = now - entry.wait_seconds
            await self.ctx.run(
                router.enqueue,
                core,
                queue,
                priority=router.plan.priority(queue, tier=snap.get("tier"), given=given),
                language=snap.get("language") or None,
                enqueued_at=float(snap.get("queued_at") or joined),
                step_base=joined,
                head=head,
            )
        for call in list(router.calls.values()):
            if call.waiting and call.kind is CallKind.LIVE and call.call_id not in seen:
                await self.ctx.run(router.remove_call, call.call_id)
        await self.ctx.run(router.resume)
        await self.recover()
