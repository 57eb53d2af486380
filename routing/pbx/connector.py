"""Connecting a caller to the agent the router reserved for it (after the screen-pop).

Both ways end in extensions.conf [hotline-connect], which dials the agent:
- the caller waits in hold-<queue> (call.queued gave its channel): AMI Redirect to
  <connect_context>,<agent extension>,1;
- pre-routing: the router decided while the IVR was still talking to the caller
  (call.ivr_completed comes before the caller reaches its holding queue): AMI Setvar
  HOTLINE_AGENT_ENDPOINT=<agent dial string> on the caller's channel, and [hotline-queue]
  sends the caller straight to [hotline-connect] exten s, never queueing. A caller that
  reached the queue first (call.queued) is redirected instead.
A watchdog gives the offer up if Asterisk never reports how it ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cti.commands import ChannelInfo, ChannelNotFound, PbxError, PbxUnavailable
from cti.nodes import reachable_nodes
from routing.context import QUEUE_CONTEXT, RoutingContext
from routing.core.model import CallKind, Offer

if TYPE_CHECKING:
    from routing.pbx.dispatcher import Dispatcher

log = logging.getLogger("routing")
WATCHDOG_MARGIN = 10.0  # seconds past the dialplan's offer timeout before the router gives up
PREROUTE_MARGIN = 60.0  # the IVR may still talk a while after its result
RESUME_RETRY_SECONDS = 5.0
IVR_CONTEXT = "hotline-ivr"  # extensions.conf: where the IVR talks to the caller


def _caller_rank(c: ChannelInfo, linkedid: str, uniqueid: str | None) -> int | None:
    """How surely a channel is the caller's leg we may move (lower is surer)."""
    if uniqueid and c.uniqueid == uniqueid:
        return 0
    if c.linkedid != linkedid:
        return None
    if c.application == "Queue":
        return 1
    if c.context in (IVR_CONTEXT, QUEUE_CONTEXT):
        return 2  # in the IVR (AGI, or a command it runs) or on its way to the queue
    return 3 if c.application == "AGI" else None


@dataclass
class _Preset:
    offer: Offer
    linkedid: str
    token: object
    redirected: bool = False


class Connector:
    def __init__(self, ctx: RoutingContext, dispatcher: Dispatcher) -> None:
        self.ctx = ctx
        self.d = dispatcher
        self._watchdogs: dict[str, asyncio.TimerHandle] = {}
        self._presets: dict[str, _Preset] = {}  # core call id -> pre-routed offer

    async def offer(self, e: Offer) -> None:
        linkedid = self.ctx.live.linkedid(e.call_id)
        token = self.d.track(e)
        await self.d.publish_offer(e, linkedid, self.ctx.live.get(linkedid).snapshot)
        self.ctx.spawn(self._connect(e, linkedid, token), f"connect-{linkedid}")

    async def _connect(self, e: Offer, linkedid: str, token: object) -> None:
        await self.d.wait_ack(e.agent_id, linkedid)
        if not self.d.current(e, token):
            return  # the caller hung up meanwhile
        if self.ctx.live.get(linkedid).queue is None and e.kind is CallKind.LIVE:
            await self._preroute(e, linkedid, token)
        else:
            await self.redirect(e, linkedid, token)

    async def _preroute(self, e: Offer, linkedid: str, token: object) -> None:
        preset = self._presets[e.call_id] = _Preset(e, linkedid, token)
        try:
            channel = await self._find_channel(linkedid, fresh=True)
            if channel is not None and self.d.current(e, token):
                endpoint = self.ctx.settings.pbx.dialplan.agent_endpoint
                dial = self.ctx.agent_dial(e.extension, self.ctx.live.get(linkedid).node)
                await self.ctx.call_pbx(linkedid).set_var(
                    channel,
                    "HOTLINE_AGENT_ENDPOINT",
                    dial or endpoint.replace("{extension}", e.extension),
                )
        except PbxUnavailable as exc:
            # The caller's node does not answer while others do: the agent must not stay
            # reserved for the pre-routing margin (a minute and more) for a caller no
            # one can move; the node's holding queue serves it, its resync brings it back.
            log.debug("pre-routing %s: %s", linkedid, exc)
            if not self.d.current(e, token) or await self._node_away(e, linkedid):
                self._presets.pop(e.call_id, None)
                return
        except PbxError as exc:
            log.debug("pre-routing %s: %s (the holding queue will do)", linkedid, exc)
        # Without a channel (or a variable) the caller still reaches its holding queue,
        # and call.queued brings it here again.
        self.watch(e, token, extra=PREROUTE_MARGIN)
        if self.ctx.live.get(linkedid).queue is not None and not preset.redirected:
            self.queued(e.call_id)

    def queued(self, core_id: str) -> None:
        """The caller of a pre-routed offer entered its holding queue: redirect it."""
        preset = self._presets.get(core_id)
        if preset is None or preset.redirected:
            return
        preset.redirected = True
        if self.d.current(preset.offer, preset.token):
            self.ctx.spawn(
                self.redirect(preset.offer, preset.linkedid, preset.token), "routing-redirect"
            )

    async def redirect(self, e: Offer, linkedid: str, token: object) -> None:
        router, contract = self.ctx.router, self.ctx.settings.pbx.dialplan
        pbx = self.ctx.call_pbx(linkedid)
        for attempt in (1, 2):
            channel = await self.channel(linkedid, fresh=attempt == 2)
            if channel is None:
                break
            try:
                dial = self.ctx.agent_dial(e.extension, self.ctx.live.get(linkedid).node)
                if self.ctx.settings.pbx.several or dial:
                    # An agent on another node is dialled through the trunk, one who chose
                    # its browser phone on that phone; else the dialplan's endpoint (a dial
                    # string left from an earlier offer that never rang must not be used).
                    await pbx.set_var(channel, "HOTLINE_AGENT_ENDPOINT", dial or "")
                await pbx.redirect(channel, context=contract.connect_context, exten=e.extension)
            except ChannelNotFound:
                continue  # renamed (masquerade) or gone: look again once
            except PbxUnavailable:
                if await self._node_away(e, linkedid):
                    return
                await self.pbx_away()
                await self.ctx.run(router.offer_cancelled, e.call_id, requeue=True)
                return
            except PbxError as exc:
                log.warning("redirect of %s to %s refused: %s", linkedid, e.extension, exc)
                await self.ctx.run(router.offer_cancelled, e.call_id, requeue=True, decline=True)
                return
            self.watch(e, token)
            return
        if self.d.current(e, token):
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=False)

    async def channel(self, linkedid: str, *, fresh: bool = False) -> str | None:
        """The caller's channel: from call.queued, else Asterisk's channel list (the leg
        in a holding queue, else the one in the IVR)."""
        try:
            return await self._find_channel(linkedid, fresh=fresh)
        except PbxError:
            return None

    async def _find_channel(self, linkedid: str, *, fresh: bool) -> str | None:
        """`channel`, raising what the PBX raised (PbxUnavailable: its node is away)."""
        live = self.ctx.live.get(linkedid)
        if live.channel and not fresh:
            return live.channel
        channels = await self.ctx.call_pbx(linkedid).channels()
        ranked = sorted(
            (rank, i)
            for i, c in enumerate(channels)
            if (rank := _caller_rank(c, linkedid, live.uniqueid)) is not None
        )
        live.channel = channels[ranked[0][1]].channel if ranked else None
        return live.channel

    async def _node_away(self, e: Offer, linkedid: str) -> bool:
        """Several nodes, and the caller's node cannot be reached while others can: the
        caller is left to its node's holding queue (which serves it by itself) and out
        of the router's line; the node's next resync puts it back (routing/pbx/
        rebuild.py). Routing goes on for the other nodes' callers."""
        node = self.ctx.live.get(linkedid).node
        reachable = reachable_nodes(self.ctx.pbx)
        if node is None or reachable is None:
            return False
        if not reachable - {node}:
            return False  # no node answers: the PBX side as a whole is away
        log.warning(
            "node %s unreachable: caller %s left to its holding queue until the node is back",
            node,
            linkedid,
        )
        await self.ctx.run(self.ctx.router.offer_cancelled, e.call_id, requeue=False)
        return True

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

    def watch(
        self,
        e: Offer,
        token: object,
        *,
        extra: float = 0.0,
        expired: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        """If Asterisk never reports how the offer ended, give up after the ring time:
        `expired()` if given (a callback attempt), else the caller goes back to the head of
        its line, not to this agent again. Either way it is nobody's fault: Asterisk's Dial
        always ends with an outcome (NOANSWER after the ring time), so silence means a
        PBX too busy to report in time, not an agent who did not answer. Counting it as
        the agent's no-answer paused agent after agent exactly when the PBX was
        overloaded, and the line collapsed (bench/capacity.py soak: 58 of 153 agents
        paused)."""
        delay = self.ctx.settings.routing.offer_timeout_seconds + WATCHDOG_MARGIN + extra
        if e.kind is CallKind.CALLBACK:
            delay += self.ctx.settings.routing.callback.ring_seconds
        loop = asyncio.get_running_loop()

        def expire() -> None:
            if self.d.current(e, token):
                log.warning("offer of %s to agent %s: no outcome, given up", e.call_id, e.agent_id)
                action = (
                    expired()
                    if expired is not None
                    else self.ctx.run(
                        self.ctx.router.offer_cancelled, e.call_id, requeue=True, decline=True
                    )
                )
                self.ctx.spawn(action, "offer-expired")

        self.resolved(e.call_id, keep_preset=True)
        self._watchdogs[e.call_id] = loop.call_later(delay, expire)

    def resolved(self, call_id: str, *, keep_preset: bool = False) -> None:
        """Asterisk said how the offer ended (answered, not answered, hung up)."""
        handle = self._watchdogs.pop(call_id, None)
        if handle is not None:
            handle.cancel()
        if not keep_preset:
            self._presets.pop(call_id, None)
