"""Agent campaign calls through the router: progressive and preview dialing.

The agent dialer (campaigns/agent_dialer.py) asks `place(dial, allowed)` for one due
contact; `allowed()` is checked synchronously right before the router is asked, so
nothing changes in between (one event loop). The contact becomes a core call
"cp-<contact id>" of kind CAMPAIGN with priority campaigns.priority (below every inbound
tier, never aged, outside the inbound service level), offered only to an agent who is
free NOW: a call no agent takes at once is withdrawn at once. So one reserved agent per
placed call, never more campaign calls than ready agents, and a campaign call never
waits in line in front of (or behind) an inbound caller.

When an agent is reserved (Offer), like a callback (routing/pbx/callbacks.py):
1. the screen-pop goes out (kind "campaign", the customer's file, the campaign's name);
2. preview: the agent chooses call or skip (`decide`, bus campaign.preview_decision);
   no choice within campaigns.preview_seconds -> the call is placed;
3. the attempt row is written (the port's `begin`), then Originate dials the customer:

    Channel=Local/<number>@<callback_context>   ([hotline-callback]: dials the customer)
    Context=<connect_context> Exten=<agent extension>   (answered -> the agent is dialled)
    ChannelId=hlob-cp<contact id>x<random>      (the attempt's Linkedid: direction out)

Busy, no answer, failed (or no outcome from the PBX): the agent is given back at once,
unblamed, and the port's `end` records the outcome. Answered: the agent and customer
talk; the attempt ends answered with the agent when the call ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cti.commands import OriginatePurpose, PbxError, PbxUnavailable
from routing.context import RoutingContext
from routing.core.model import AgentState, CallKind, Offer
from routing.core.router import Router

if TYPE_CHECKING:
    from routing.pbx.dispatcher import Dispatcher

log = logging.getLogger("routing")

PREFIX = "cp-"
CALL, SKIP = "call", "skip"
# Q.850 causes: busy, and the ones saying the number cannot be reached at all.
BUSY_CAUSES = frozenset({"17"})
FAILED_CAUSES = frozenset({"1", "2", "3", "22", "27", "28", "34", "38", "41", "42", "58"})


def outcome_of(cause: str | None) -> str:
    """What a customer's leg that never reached the agent came to, from its hangup cause."""
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in FAILED_CAUSES:
        return "failed"
    return "no_answer"


@dataclass(frozen=True)
class CampaignDial:
    """One contact to place: what the pop shows and the dial needs."""

    campaign_id: int
    campaign_name: str
    contact_id: int
    number: str
    queue: str  # the router queue of the campaign's skill
    preview: bool
    customer_id: int | None = None
    name: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    caller_id: str | None = None
    language: str | None = None

    @property
    def core_id(self) -> str:
        return f"{PREFIX}{self.contact_id}"


class CampaignPort(Protocol):
    """What the campaign side does at each step (campaigns/agent_dialer.py)."""

    async def begin(self, dial: CampaignDial, agent_id: int, linkedid: str) -> bool:
        """The attempt starts (before Originate); False: the contact cannot be called now."""
        ...

    async def end(
        self,
        dial: CampaignDial,
        *,
        outcome: str,
        agent_id: int | None,
        linkedid: str,
        cause: str | None,
    ) -> None: ...

    async def connected(self, dial: CampaignDial, agent_id: int) -> None:
        """The agent answered the customer."""
        ...

    async def skipped(self, dial: CampaignDial, agent_id: int) -> None: ...


@dataclass
class CampaignEntry:
    dial: CampaignDial
    agent_id: int | None = None
    linkedid: str | None = None
    started: bool = False  # the attempt row exists (Originate was asked)
    customer_on_line: bool = False
    decision: asyncio.Future[str] | None = None


class CampaignCalls:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx
        self.entries: dict[str, CampaignEntry] = {}  # core id "cp-<contact>" -> entry
        self.port: CampaignPort | None = None
        self.placed = 0  # calls handed to an agent since start (for tests and metrics)

    def dials(self, core_id: str) -> bool:
        entry = self.entries.get(core_id)
        return entry is not None and not entry.customer_on_line

    def busy_contacts(self) -> set[int]:
        return {e.dial.contact_id for e in self.entries.values()}

    # -- placing -----------------------------------------------------------------------------

    async def place(self, dial: CampaignDial, allowed: Callable[[], bool]) -> bool:
        """Offer the contact to an agent free now; False (nothing placed) when `allowed()`
        says no, or no agent of its queue takes it at once."""
        router, core = self.ctx.router, dial.core_id
        if core in self.entries or core in router.calls or not router.dispatching:
            return False
        if not allowed():
            return False
        self.entries[core] = CampaignEntry(dial)
        await self.ctx.run(
            router.enqueue,
            core,
            dial.queue,
            priority=self.ctx.settings.campaigns.priority,
            language=dial.language,
            kind=CallKind.CAMPAIGN,
            may_overflow=False,
        )
        if router.offer_for(core) is None and core not in router.talking:
            # Nobody free took it: withdrawn, never left waiting in line.
            with contextlib.suppress(KeyError):
                await self.ctx.run(router.remove_call, core)
            self.entries.pop(core, None)
            return False
        self.placed += 1
        return True

    async def offer(self, e: Offer, dispatcher: Dispatcher) -> None:
        entry = self.entries[e.call_id]
        d = entry.dial
        linkedid = f"{OriginatePurpose.OUTBOUND.value}cp{d.contact_id}x{secrets.token_hex(4)}"
        entry.linkedid, entry.agent_id = linkedid, e.agent_id
        live = self.ctx.live
        live.alias(linkedid, e.call_id)
        live.get(linkedid).uniqueid = linkedid
        cfg = self.ctx.settings.campaigns
        live.get(linkedid).snapshot = snapshot = {
            "call_id": linkedid,
            "direction": "out",
            "caller_number": d.number,
            "customer_id": d.customer_id,
            "customer_name": d.name or None,
            "skill": d.queue,
            "priority": e.priority,
            "language": d.language,
            "queued_at": e.at,
            "campaign_id": d.campaign_id,
            "campaign_name": d.campaign_name,
            "campaign_contact_id": d.contact_id,
            "campaign_data": dict(d.data),
            "dial_mode": "preview" if d.preview else "progressive",
            "preview_seconds": cfg.preview_seconds if d.preview else None,
        }
        if d.preview:
            entry.decision = asyncio.get_running_loop().create_future()
        token = dispatcher.track(e)
        await dispatcher.publish_offer(e, linkedid, snapshot)
        self.ctx.spawn(self._dial(e, entry, linkedid, token, dispatcher), f"dial-{linkedid}")

    def decide(self, agent_id: int, linkedid: str, decision: str) -> bool:
        """The agent's choice on a preview (call or skip); False if nothing awaits it."""
        for entry in self.entries.values():
            if (
                entry.linkedid == linkedid
                and entry.agent_id == agent_id
                and entry.decision is not None
                and not entry.decision.done()
            ):
                entry.decision.set_result(SKIP if decision == SKIP else CALL)
                return True
        return False

    async def _choice(self, entry: CampaignEntry) -> str:
        if entry.decision is None:
            return CALL
        timeout = self.ctx.settings.campaigns.preview_seconds
        try:
            return await asyncio.wait_for(asyncio.shield(entry.decision), timeout)
        except TimeoutError:
            return CALL  # not acted on: placed

    async def _dial(
        self, e: Offer, entry: CampaignEntry, linkedid: str, token: object, d: Dispatcher
    ) -> None:
        await d.wait_ack(e.agent_id, linkedid)
        if not d.current(e, token):
            return
        router, s, dial = self.ctx.router, self.ctx.settings, entry.dial
        if await self._choice(entry) == SKIP:
            # The contact is put off first: the agent freed next must not get it again.
            if self.port is not None:
                try:
                    await self.port.skipped(dial, e.agent_id)
                except Exception:
                    log.exception("campaign preview %s: skip not recorded", linkedid)
            if d.current(e, token):
                await self.ctx.run(router.offer_cancelled, e.call_id, requeue=False)
            self._forget(e.call_id)
            return
        if not d.current(e, token):
            return
        if self.port is None or not await self.port.begin(dial, e.agent_id, linkedid):
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=False)
            self._forget(e.call_id)
            return
        entry.started = True
        cfg = s.campaigns
        try:
            node = self.ctx.agent_nodes.node_of(e.extension)
            pbx = self.ctx.on_node(node)
            caller_id = dial.caller_id or cfg.caller_id or s.center.hotline_numbers[0]
            await pbx.originate(
                f"Local/{dial.number}@{s.pbx.dialplan.callback_context}",
                purpose=OriginatePurpose.OUTBOUND,
                context=s.pbx.dialplan.connect_context,
                exten=e.extension,
                caller_id=caller_id,
                variables={
                    "HOTLINE_SKILL": dial.queue,
                    "HOTLINE_PRIORITY": str(e.priority),
                    "HOTLINE_CALL_KIND": "campaign",
                    "HOTLINE_CAMPAIGN_ID": str(dial.campaign_id),
                    "HOTLINE_CONTACT_ID": str(dial.contact_id),
                    "HOTLINE_CALLBACK_CALLERID": caller_id,
                    "HOTLINE_CALLBACK_RING_SECONDS": str(cfg.ring_seconds),
                    **self.ctx.connect_variables(e.extension, node),
                },
                timeout_seconds=cfg.ring_seconds + 5,
                uniqueid=linkedid,
            )
        except (PbxUnavailable, PbxError) as exc:
            if isinstance(exc, PbxUnavailable):
                await d.connector.pbx_away()
            log.warning("campaign call %s not placed: %s", linkedid, exc)
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=False)
            await self._end(e.call_id, "failed", None, str(exc)[:16])
            return
        d.connector.watch(e, token, extra=cfg.ring_seconds, expired=lambda: self._lost(e.call_id))

    # -- what happens to the call (events of its Linkedid, routing/intake.py) ---------------

    def _offered_to(self, core_id: str, extension: str) -> bool:
        agent = self.ctx.router.offer_for(core_id)
        return agent is not None and agent.extension == extension

    async def answered(self, core_id: str, extension: str) -> None:
        entry = self.entries[core_id]
        if not self._offered_to(core_id, extension):
            entry.customer_on_line = True  # the customer's leg (dialled first) answered
            return
        await self.ctx.run(self.ctx.router.answered, core_id)
        if self.port is not None and entry.agent_id is not None:
            try:
                await self.port.connected(entry.dial, entry.agent_id)
            except Exception:
                log.exception("campaign call %s: answer not recorded", core_id)

    async def agent_no_answer(self, core_id: str, extension: str) -> None:
        entry = self.entries[core_id]
        if not self._offered_to(core_id, extension):
            return  # the customer did not answer: the attempt ends with call.ended
        entry.customer_on_line = True  # waits in the holding queue now (dialplan requeue)
        await self.ctx.run(self.ctx.router.offer_failed, core_id)

    async def ended(self, core_id: str, linkedid: str, event: Mapping[str, Any]) -> None:
        entry = self.entries.get(core_id)
        if entry is None or linkedid != entry.linkedid:
            return
        router = self.ctx.router
        call = event.get("call") or {}
        cause = call.get("hangup_cause")
        cause = None if cause is None else str(cause)
        if core_id in router.talking:
            agent_id = router.talking[core_id]
            await self.ctx.run(router.call_ended, core_id)
            await self._end(core_id, "answered", agent_id, cause)
        elif core_id in router.offers:
            await self.ctx.run(router.offer_cancelled, core_id, requeue=False)
            outcome = "hangup" if entry.customer_on_line else outcome_of(cause)
            await self._end(core_id, outcome, None, cause)
        elif core_id in router.calls:
            await self.ctx.run(router.remove_call, core_id)
            await self._end(core_id, "hangup", None, cause)
        self.ctx.live.forget(linkedid)

    async def _lost(self, core_id: str) -> None:
        """Asterisk never said how the attempt ended: the agent goes back at once."""
        entry = self.entries.get(core_id)
        if entry is None or core_id not in self.ctx.router.offers:
            return
        if entry.customer_on_line:
            await self.ctx.run(self.ctx.router.offer_failed, core_id)
            return
        await self.ctx.run(self.ctx.router.offer_cancelled, core_id, requeue=False)
        await self._end(core_id, "failed", None, None)

    def _forget(self, core_id: str) -> None:
        entry = self.entries.pop(core_id, None)
        if entry is not None and entry.linkedid:
            self.ctx.live.forget(entry.linkedid)

    async def _end(
        self, core_id: str, outcome: str, agent_id: int | None, cause: str | None
    ) -> None:
        entry = self.entries.pop(core_id, None)
        if entry is None:
            return
        if entry.started and self.port is not None:
            try:
                await self.port.end(
                    entry.dial,
                    outcome=outcome,
                    agent_id=agent_id,
                    linkedid=entry.linkedid or "",
                    cause=cause,
                )
            except Exception:
                log.exception("campaign attempt %s: outcome %s not recorded", core_id, outcome)

    def stop(self) -> None:
        for entry in self.entries.values():
            if entry.decision is not None and not entry.decision.done():
                entry.decision.cancel()


def inbound_view(router: Router, queue: str, at: float) -> tuple[int, list[dict[str, Any]]]:
    """For a campaign of `queue`: how many agents could take one of its calls now
    (offerable, in the queue's first step), and the inbound figures of every queue the
    signed-in agents of the campaign serve (campaigns/inbound_guard.py decides from
    them). A pure read of the core."""
    plan = router.plan
    index = plan.queue(queue).index
    staff = [
        a
        for a in router.agents.values()
        if a.state is not AgentState.LOGGED_OUT
        and any(m.queue == index and m.step == 0 for m in a.matches)
    ]
    free = [a for a in staff if a.offerable]
    served = sorted({m.queue for a in staff for m in a.matches})
    views: list[dict[str, Any]] = []
    for q in served:
        waiting = [
            c
            for c in router.calls.values()
            if c.queue == q and c.waiting and c.kind is not CallKind.CAMPAIGN
        ]
        stats = router.stats[q]
        views.append(
            {
                "name": plan.queues[q].name,
                "sl_seconds": plan.queues[q].sl_seconds,
                "sl_percent": plan.queues[q].sl_percent,
                "waiting": len(waiting),
                "oldest_wait": max((at - c.enqueued_at for c in waiting), default=None),
                "answered": stats.answered,
                "answered_in_sl": stats.answered_in_sl,
            }
        )
    return len(free), views
