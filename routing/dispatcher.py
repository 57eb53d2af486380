"""Carries the router's decisions out: on the bus (agent states, offers, wrap-ups) and on
Asterisk (connect the caller, overflow).

An offer, in this order (the screen-pop must be on the desktop before the phone rings):
1. the agent is reserved (the core did it) and agent.state "reserved" is published;
2. {"type": "offer", ...} goes out on topic "offer"; the agent API pushes the screen-pop
   and answers {"type": "offer.delivered", "agent_id", "call_id"};
3. after that answer (or routing.offer_ack_timeout_ms), AMI Redirect of the caller's
   channel to <connect_context>,<agent extension>,1: the dialplan dials
   pbx.dialplan.agent_endpoint for routing.offer_timeout_seconds (extensions.conf
   [hotline-connect]); not answered -> DialEnd NOANSWER (call.agent_no_answer) and the
   caller goes back to its holding queue with HOTLINE_REQUEUED=1 (head of the line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from cti.commands import ChannelNotFound, PbxError, PbxUnavailable
from routing.callbacks import Callbacks
from routing.context import (
    FALLBACK_CONTEXT,
    QUEUE_CONTEXT,
    TOPIC_AGENT,
    TOPIC_CALL,
    TOPIC_OFFER,
    RoutingContext,
)
from routing.model import AgentChanged, CallKind, Offer, Overflowed, RouterEvent, WrapUpEnded
from routing.store import StateChange

log = logging.getLogger("routing")
WATCHDOG_MARGIN = 10.0  # seconds past the dialplan's offer timeout before the router gives up
RESUME_RETRY_SECONDS = 5.0


class Dispatcher:
    def __init__(self, ctx: RoutingContext, callbacks: Callbacks) -> None:
        self.ctx = ctx
        self.callbacks = callbacks
        self.estimates: dict[str, float | None] = {}  # queue -> new caller wait (announcer)
        self._acks: dict[tuple[int, str], asyncio.Event] = {}
        self._watchdogs: dict[str, asyncio.TimerHandle] = {}
        self._tokens: dict[str, object] = {}  # core call id -> the offer being carried out
        self.overflowed: set[str] = set()  # linkedids whose overflow already ran

    async def apply(self, events: list[RouterEvent]) -> None:
        for e in events:
            if isinstance(e, AgentChanged):
                await self._agent_changed(e)
            elif isinstance(e, Offer):
                if e.kind is CallKind.CALLBACK and self.callbacks.dials(e.call_id):
                    await self.callbacks.offer(e, self)
                else:
                    await self.offer_live(e)
            elif isinstance(e, WrapUpEnded):
                await self._wrapped(e)
            elif isinstance(e, Overflowed):
                self.ctx.spawn(self._overflow(e), f"overflow-{e.call_id}")
        self.ctx.wake.set()

    # -- bus -------------------------------------------------------------------------------

    async def _agent_changed(self, e: AgentChanged) -> None:
        await self.ctx.bus.publish(
            TOPIC_AGENT,
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
            TOPIC_CALL,
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
            TOPIC_OFFER,
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

    # -- connecting a live caller ----------------------------------------------------------

    async def offer_live(self, e: Offer) -> None:
        linkedid = self.ctx.live.linkedid(e.call_id)
        live = self.ctx.live.get(linkedid)
        token = self.track(e)
        await self.publish_offer(e, linkedid, live.snapshot)
        self.ctx.spawn(self._connect(e, linkedid, token), f"connect-{linkedid}")

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

    async def _connect(self, e: Offer, linkedid: str, token: object) -> None:
        await self.wait_ack(e.agent_id, linkedid)
        if not self.current(e, token):
            return  # the caller hung up meanwhile
        router, contract = self.ctx.router, self.ctx.settings.pbx.dialplan
        for attempt in (1, 2):
            channel = await self.channel(linkedid, fresh=attempt == 2)
            if channel is None:
                break
            try:
                await self.ctx.pbx.redirect(
                    channel, context=contract.connect_context, exten=e.extension
                )
            except ChannelNotFound:
                continue  # renamed (masquerade) or gone: look again once
            except PbxUnavailable:
                await self.pbx_away()
                await self.ctx.run(router.offer_cancelled, e.call_id, requeue=True)
                return
            except PbxError as exc:
                log.warning("redirect of %s to %s refused: %s", linkedid, e.extension, exc)
                await self.ctx.run(router.offer_cancelled, e.call_id, requeue=True, decline=True)
                return
            self.watch(e, token)
            return
        if self.current(e, token):
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=False)

    async def pbx_away(self) -> None:
        """No offers while the PBX cannot carry them out. pbx.connected resumes (after a
        rebuild); so does a retry a few seconds later, for a link that never dropped."""
        log.warning("PBX unavailable: routing paused")
        await self.ctx.run(self.ctx.router.suspend)

        async def retry() -> None:
            await asyncio.sleep(RESUME_RETRY_SECONDS)
            if not self.ctx.router.dispatching:
                await self.ctx.run(self.ctx.router.resume)

        self.ctx.spawn(retry(), "routing-resume")

    async def channel(self, linkedid: str, *, fresh: bool = False) -> str | None:
        """The caller's channel: from call.queued, else Asterisk's channel list."""
        live = self.ctx.live.get(linkedid)
        if live.channel and not fresh:
            return live.channel
        try:
            channels = await self.ctx.pbx.channels()
        except PbxError:
            return None
        mine = [c for c in channels if c.linkedid == linkedid or c.uniqueid == live.uniqueid]
        best = next((c for c in mine if c.uniqueid == live.uniqueid), None) or next(
            (c for c in mine if c.application == "Queue"), None
        )
        live.channel = best.channel if best else None
        return live.channel

    def watch(self, e: Offer, token: object) -> None:
        """If Asterisk never reports how the offer ended, give up after the ring time."""
        delay = self.ctx.settings.routing.offer_timeout_seconds + WATCHDOG_MARGIN
        if e.kind is CallKind.CALLBACK:
            delay += self.ctx.settings.routing.callback.ring_seconds
        loop = asyncio.get_running_loop()

        def expire() -> None:
            if self.current(e, token):
                log.warning("offer of %s to agent %s: no outcome, requeued", e.call_id, e.agent_id)
                self.ctx.spawn(
                    self.ctx.run(self.ctx.router.offer_failed, e.call_id), "offer-expired"
                )

        self.resolved(e.call_id)
        self._watchdogs[e.call_id] = loop.call_later(delay, expire)

    def resolved(self, call_id: str) -> None:
        handle = self._watchdogs.pop(call_id, None)
        if handle is not None:
            handle.cancel()

    # -- overflow --------------------------------------------------------------------------

    async def _overflow(self, e: Overflowed) -> None:
        linkedid = self.ctx.live.linkedid(e.call_id)
        self.overflowed.add(linkedid)
        channel = await self.channel(linkedid)
        if channel is None:
            return
        pbx, live = self.ctx.pbx, self.ctx.live.get(linkedid)
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
        await self.ctx.pbx.set_var(channel, "HOTLINE_VOICEMAIL_NAME", name)
        await self.ctx.pbx.redirect(channel, context=FALLBACK_CONTEXT, exten="voicemail")
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
