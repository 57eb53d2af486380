"""Offers of callers who came in through Twilio: Twilio rings the agent, never Asterisk.

A Twilio caller waits on Twilio's side, in a queue of its own (<Enqueue> hotline-<CallSid>,
ivr/twilio/twiml.py), which Asterisk cannot reach: redirecting it to [hotline-connect]
would ring nobody, and the agent would be counted a no-answer and paused. So the router
carries such an offer out through Twilio (the `TwilioAgents` port, ivr/twilio/agents.py):
after the screen-pop, Twilio calls the agent's phone (twilio.agent_sip_uri) and, once
answered, that call dequeues exactly this caller (<Dial><Queue>hotline-<CallSid>).

Twilio reports the agent's leg to /twilio/agent/status, which publishes the tracker's
events for the caller's CallSid: call.offered (ringing), call.answered (the agent picked
up), call.agent_no_answer (no-answer, busy, failed: the caller stays in its queue and is
offered again, head of the line). routing/intake.py handles those like Asterisk's. The
caller hanging up while the agent's phone rings cancels the agent's leg.

Without twilio.agent_sip_uri there is no port: intake never enqueues Twilio callers,
they wait for Twilio-side agents (README, "Twilio").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from routing.context import RoutingContext
from routing.core.model import Offer

if TYPE_CHECKING:
    from routing.pbx.dispatcher import Dispatcher

log = logging.getLogger("routing")


class TwilioDialError(Exception):
    """Twilio's API refused or could not be reached: the agent is not at fault."""


class TwilioAgents(Protocol):
    async def ring(
        self, call_id: str, extension: str, *, caller_id: str, timeout_seconds: int
    ) -> str:
        """Have Twilio call the agent's phone and, when answered, bridge the waiting
        caller `call_id` (a CallSid); returns the agent leg's CallSid. Raises
        TwilioDialError."""
        ...

    async def cancel(self, leg_sid: str) -> None:
        """Stop ringing the agent's leg (the caller is gone). Raises TwilioDialError."""
        ...

    async def close(self) -> None: ...


class TwilioOffers:
    def __init__(self, ctx: RoutingContext, dispatcher: Dispatcher, agents: TwilioAgents) -> None:
        self.ctx = ctx
        self.d = dispatcher
        self.agents = agents
        self.legs: dict[str, str] = {}  # core call id -> the agent leg ringing for it

    async def offer(self, e: Offer) -> None:
        linkedid = self.ctx.live.linkedid(e.call_id)
        token = self.d.track(e)
        await self.d.publish_offer(e, linkedid, self.ctx.live.get(linkedid).snapshot)
        self.ctx.spawn(self._ring(e, linkedid, token), f"twilio-ring-{linkedid}")

    async def _ring(self, e: Offer, linkedid: str, token: object) -> None:
        await self.d.wait_ack(e.agent_id, linkedid)
        if not self.d.current(e, token):
            return  # the caller hung up meanwhile
        s, router = self.ctx.settings, self.ctx.router
        snapshot = self.ctx.live.get(linkedid).snapshot
        try:
            leg = await self.agents.ring(
                linkedid,
                e.extension,
                # The number the caller dialled: a number of this Twilio account.
                caller_id=str(snapshot.get("dialed_number") or s.center.hotline_numbers[0]),
                timeout_seconds=s.routing.offer_timeout_seconds,
            )
        except TwilioDialError as exc:
            log.warning("Twilio could not ring agent %s for %s: %s", e.extension, linkedid, exc)
            # Not the agent's fault; not to this agent again (its phone is out of reach).
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=True, decline=True)
            return
        if not self.d.current(e, token):
            # Twilio's callbacks overtook its answer: the caller hung up (cancel the leg),
            # or the leg already rang out; but if the agent answered, it stays.
            if router.talking.get(e.call_id) != e.agent_id:
                await self._cancel(leg)
            return
        self.legs[e.call_id] = leg
        self.d.connector.watch(e, token, expired=lambda: self._lost(e.call_id))

    async def _lost(self, core_id: str) -> None:
        """Twilio never said how the agent's leg ended (its status callbacks did not
        reach us): not the agent's fault, the caller is offered again."""
        leg = self.legs.pop(core_id, None)
        if leg is not None:
            await self._cancel(leg)
        await self.ctx.run(self.ctx.router.offer_cancelled, core_id, requeue=True, decline=True)

    def resolved(self, core_id: str) -> None:
        """Twilio said how the agent's leg went (answered or not)."""
        self.legs.pop(core_id, None)

    async def ended(self, core_id: str) -> None:
        """The caller hung up: an agent's phone still ringing for it stops."""
        leg = self.legs.pop(core_id, None)
        if leg is not None:
            await self._cancel(leg)

    async def _cancel(self, leg: str) -> None:
        try:
            await self.agents.cancel(leg)
        except TwilioDialError as exc:  # it rings out by itself (offer timeout)
            log.info("agent leg %s not cancelled: %s", leg, exc)
