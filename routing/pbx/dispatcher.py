"""Carries the router's decisions out: on the bus (agent states, offers, wrap-ups) and on
Asterisk (connect the caller, overflow).

An offer, in this order (the screen-pop must be on the desktop before the phone rings):
1. the agent is reserved (the core did it) and agent.state "reserved" is published;
2. {"type": "offer", ...} goes out on topic "offer"; the agent API pushes the screen-pop
   and answers {"type": "offer.delivered", "agent_id", "call_id"};
3. after that answer (or routing.offer_ack_timeout_ms), the caller is connected
   (routing/pbx/connector.py): the dialplan dials pbx.dialplan.agent_endpoint for
   routing.offer_timeout_seconds (extensions.conf [hotline-connect]); not answered ->
   DialEnd NOANSWER (call.agent_no_answer) and the caller goes back to its holding queue
   with HOTLINE_REQUEUED=1 (head of the line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from cti.commands import PbxError
from kernel import topics
from routing.context import (
    FALLBACK_CONTEXT,
    QUEUE_CONTEXT,
    RoutingContext,
)
from routing.core.model import AgentChanged, CallKind, Offer, Overflowed, RouterEvent, WrapUpEnded
from routing.pbx.callbacks import Callbacks
from routing.pbx.campaign_calls import CampaignCalls
from routing.pbx.connector import Connector
from routing.pbx.twilio_offers import TwilioOffers
from routing.store import StateChange

log = logging.getLogger("routing")


class Dispatcher:
    def __init__(
        self, ctx: RoutingContext, callbacks: Callbacks, campaigns: CampaignCalls | None = None
    ) -> None:
        self.ctx = ctx
        self.callbacks = callbacks
        self.campaigns = campaigns if campaigns is not None else CampaignCalls(ctx)
        self.estimates: dict[str, float | None] = {}  # queue -> new caller wait (announcer)
        self._acks: dict[tuple[int, str], asyncio.Event] = {}
        self._tokens: dict[str, object] = {}  # core call id -> the offer being carried out
        self.connector = Connector(ctx, self)
        self.twilio = TwilioOffers(ctx, self, ctx.twilio) if ctx.twilio is not None else None
        self.overflowed: set[str] = set()  # linkedids whose overflow already ran

    async def apply(self, events: list[RouterEvent]) -> None:
        for e in events:
            if isinstance(e, AgentChanged):
                await self._agent_changed(e)
            elif isinstance(e, Offer):
                if e.kind is CallKind.CALLBACK and self.callbacks.dials(e.call_id):
                    await self.callbacks.offer(e, self)
                elif e.kind is CallKind.CAMPAIGN and self.campaigns.dials(e.call_id):
                    await self.campaigns.offer(e, self)
                elif e.kind is CallKind.TWILIO:
                    await self._twilio_offer(e)
                else:
                    await self.connector.offer(e)
            elif isinstance(e, WrapUpEnded):
                await self._wrapped(e)
            elif isinstance(e, Overflowed):
                self.ctx.spawn(self._overflow(e), f"overflow-{e.call_id}")
        self.ctx.wake.set()

    async def _twilio_offer(self, e: Offer) -> None:
        """A Twilio caller: Twilio rings the agent; Asterisk could not reach the caller."""
        if self.twilio is not None:
            await self.twilio.offer(e)
            return
        log.error("Twilio caller %s offered without twilio.agent_sip_uri: dropped", e.call_id)
        await self.ctx.run(self.ctx.router.offer_cancelled, e.call_id, requeue=False)

    # -- bus -------------------------------------------------------------------------------

    async def _agent_changed(self, e: AgentChanged) -> None:
        await self.ctx.bus.publish(
            topics.AGENT,
            {
                "type": "agent.state",
                "agent_id": e.agent_id,
                "extension": e.extension,
                "state": e.state.value,
                "reason": e.reason,
                "at": e.at,
            },
        )
        await self.ctx.store.record(StateChange(e.agent_id, e.state.value, e.reason, e.at))

    async def _wrapped(self, e: WrapUpEnded) -> None:
        # No "call" snapshot: the call log writer takes this as a wrap-up update.
        await self.ctx.bus.publish(
            topics.CALL,
            {
                "type": "call.wrapped",
                "linkedid": self.ctx.live.linkedid(e.call_id),
                "wrap_seconds": e.wrap_seconds,
                "wrap_code": e.code,
                "agent_id": e.agent_id,
                "at": e.at,
            },
        )

    async def publish_offer(self, e: Offer, linkedid: str, snapshot: dict[str, Any]) -> None:
        """Step 2: the screen-pop. Returns once published; the ack is awaited later."""
        self._acks[(e.agent_id, linkedid)] = asyncio.Event()
        channel = self.ctx.live.calls.get(linkedid)
        await self.ctx.bus.publish(
            topics.OFFER,
            {
                "type": "offer",
                "agent_id": e.agent_id,
                "extension": e.extension,
                "call_id": linkedid,
                "channel": channel.channel if channel else None,
                "skill": e.queue,
                "priority": e.priority,
                "wait_seconds": e.wait_seconds,
                "estimated_wait": e.predicted_wait,
                "kind": e.kind.value,
                "call": snapshot,
            },
        )

    def acked(self, agent_id: int, call_id: str) -> None:
        ack = self._acks.get((agent_id, call_id))
        if ack is not None:
            ack.set()

    async def wait_ack(self, agent_id: int, linkedid: str) -> bool:
        ack = self._acks.get((agent_id, linkedid))
        timeout = self.ctx.settings.routing.offer_ack_timeout_ms / 1000
        try:
            if ack is None or timeout <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ack.wait(), timeout)
            return ack.is_set()
        finally:
            self._acks.pop((agent_id, linkedid), None)

    # -- offer bookkeeping (shared by live connects and callbacks) ------------------------

    def track(self, e: Offer) -> object:
        """A token for this offer: later steps check it is still the one going on."""
        self._tokens[e.call_id] = token = object()
        return token

    def current(self, e: Offer, token: object) -> bool:
        agent = self.ctx.router.offer_for(e.call_id)
        return (
            agent is not None
            and agent.agent_id == e.agent_id
            and self._tokens.get(e.call_id) is token
        )

    # -- overflow --------------------------------------------------------------------------

    async def _overflow(self, e: Overflowed) -> None:
        linkedid = self.ctx.live.linkedid(e.call_id)
        self.overflowed.add(linkedid)
        channel = await self.connector.channel(linkedid)
        if channel is None:
            return
        pbx, live = self.ctx.call_pbx(linkedid), self.ctx.live.get(linkedid)
        try:
            if e.action == "queue" and e.target_queue:
                await pbx.set_var(channel, "HOTLINE_SKILL", e.target_queue)
                await pbx.set_var(channel, "HOTLINE_QUEUE_DEADLINE", "")
                await pbx.redirect(channel, context=QUEUE_CONTEXT, exten="s")
            elif e.action == "voicemail_ticket":
                await self._voicemail(linkedid, channel, e.queue, live.snapshot)
            else:
                await pbx.redirect(channel, context=FALLBACK_CONTEXT, exten="callback")
        except PbxError as exc:
            log.warning("overflow %s of %s failed: %s", e.action, linkedid, exc)

    async def _voicemail(
        self, linkedid: str, channel: str, queue: str, call: dict[str, Any]
    ) -> None:
        name = f"voicemail-{linkedid}"
        recording = self.ctx.settings.recording
        path = f"{recording.root}/{name}.wav"
        number = str(call.get("caller_number") or "") or None
        pbx = self.ctx.call_pbx(linkedid)
        await pbx.set_var(channel, "HOTLINE_VOICEMAIL_NAME", name)
        await pbx.redirect(channel, context=FALLBACK_CONTEXT, exten="voicemail")
        customer = call.get("customer_id")
        await self.ctx.callbacks_db.open_ticket(
            category=self.ctx.settings.routing.voicemail_ticket_category,
            subject=f"留言 / Voicemail from {number or 'unknown caller'} ({queue})",
            description=f"The caller waited past the last routing step of queue {queue} "
            f"and was asked to leave a message. Recording: {path}",
            number=number,
            customer_id=int(str(customer)) if str(customer or "").isdigit() else None,
            linkedid=linkedid,
            relation="voicemail",
        )
