"""Callbacks (virtual hold): the caller hangs up and keeps its place in line.

A request (call.callback_requested: the queue key in [hotline-queue-keys], the dialplan
fallback, or the IVR's callback node) becomes a callback_requests row and a core call
"cb-<id>" that keeps the original enqueue time. When its turn comes an agent is
reserved, the screen-pop goes out, and Originate dials the customer:

    Channel=Local/<number>@<callback_context>   (extensions.conf [hotline-callback] dials
                                                 HOTLINE_OUTBOUND_PREFIX<number>SUFFIX)
    Context=<connect_context> Exten=<agent extension>   (answered -> the agent is dialled)
    ChannelId=hlcb-<id>x<attempt>x<random>      (the Linkedid of the attempt)

Customer unreachable -> retry after routing.callback.retry_interval_seconds, up to
max_attempts, then a ticket (routing.callback.ticket_category). An attempt that fails
(originate refused, the customer's leg failed or rang out, or Asterisk never said) gives
the reserved agent back at once and unblamed (no no-answer counted): waiting callers are
never held up by a failing callback. The agent not answering
after the customer did -> the customer waits in the holding queue at the head of the
line like any requeued caller, and the next agent is connected by redirect.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cti.commands import OriginatePurpose, PbxError, PbxUnavailable
from db.models import CallbackState
from routing.callback_store import CallbackRecord
from routing.context import RoutingContext
from routing.core.model import CallKind, Offer, RouterEvent

if TYPE_CHECKING:
    from routing.pbx.dispatcher import Dispatcher

log = logging.getLogger("routing")


@dataclass
class CallbackEntry:
    record: CallbackRecord
    queue: str
    attempts: int
    linkedid: str | None = None  # the attempt in progress
    customer_on_line: bool = False


class Callbacks:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx
        self.entries: dict[str, CallbackEntry] = {}  # core id "cb-<id>" -> entry
        self.origins: dict[str, str] = {}  # linkedid of the requesting call -> core id
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def dials(self, core_id: str) -> bool:
        """True if this core call is a callback whose customer is not on the line."""
        entry = self.entries.get(core_id)
        return entry is not None and not entry.customer_on_line

    def _queue_for(self, skill: str) -> str:
        s = self.ctx.settings
        if skill in self.ctx.router.plan.by_name:
            return skill
        queue = s.queue_for_skill(skill)
        return queue.name if queue else s.queues[0].name

    # -- requests and restarts ---------------------------------------------------------------

    async def load(self) -> None:
        for record in await self.ctx.callbacks_db.active():
            await self._track(record, when=record.next_attempt_at)

    async def requested(self, linkedid: str, number: str, call: dict[str, Any], at: float) -> None:
        if linkedid in self.origins:
            return
        self.origins[linkedid] = ""  # taken: a concurrent report of it waits for nothing
        number = "".join(
            ch for ch in (number or str(call.get("caller_number") or "")) if ch.isdigit()
        )
        if not number:
            log.warning("callback request of %s without a number: ignored", linkedid)
            return
        queue = self._queue_for(str(call.get("skill") or ""))
        plan = self.ctx.router.plan
        customer = str(call.get("customer_id") or "")
        record = await self.ctx.callbacks_db.find_or_create(
            linkedid=linkedid,
            number=number,
            skill=queue,
            priority=plan.priority(queue, tier=call.get("tier"), given=call.get("priority")),
            language=call.get("language"),
            customer_id=int(customer) if customer.isdigit() else None,
            enqueued_at=float(call.get("queued_at") or at),
        )
        await self.ctx.run(self.ctx.router.remove_call, linkedid)
        if record.finished:
            return  # handled before (e.g. seen live, then found again in AstDB)
        self.origins[linkedid] = f"cb-{record.id}"
        await self._track(record, when=record.next_attempt_at)

    async def _track(self, record: CallbackRecord, when: float | None) -> None:
        core_id = f"cb-{record.id}"
        if core_id in self.entries:
            return
        entry = CallbackEntry(record, self._queue_for(record.skill), record.attempts)
        self.entries[core_id] = entry
        self._schedule(core_id, when)

    def _schedule(self, core_id: str, when: float | None) -> None:
        delay = 0.0 if when is None else max(0.0, when - self.ctx.clock.timestamp())
        loop = asyncio.get_running_loop()

        def due() -> None:
            self._timers.pop(core_id, None)
            if core_id in self.entries:
                self.ctx.spawn(self.ctx.run(self._enqueue, core_id), f"callback-{core_id}")

        self._timers[core_id] = loop.call_later(delay, due)

    def _enqueue(self, core_id: str) -> list[RouterEvent]:
        entry = self.entries[core_id]
        r = entry.record
        return self.ctx.router.enqueue(
            core_id,
            entry.queue,
            priority=r.priority,
            language=r.language,
            enqueued_at=r.enqueued_at,  # the place in line is kept
            step_base=r.enqueued_at,
            kind=CallKind.CALLBACK,
        )

    def stop(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    # -- the customer's turn -----------------------------------------------------------------

    async def offer(self, e: Offer, dispatcher: Dispatcher) -> None:
        entry = self.entries[e.call_id]
        entry.attempts += 1
        r = entry.record
        linkedid = (
            f"{OriginatePurpose.CALLBACK.value}{r.id}x{entry.attempts}x{secrets.token_hex(3)}"
        )
        entry.linkedid = linkedid
        live = self.ctx.live
        live.alias(linkedid, e.call_id)
        live.get(linkedid).uniqueid = linkedid
        live.get(linkedid).snapshot = {
            "call_id": linkedid,
            "direction": "out",
            "caller_number": r.number,
            "skill": entry.queue,
            "priority": r.priority,
            "customer_id": r.customer_id,
            "language": r.language,
            "queued_at": r.enqueued_at,
            "callback_id": r.id,
            "attempt": entry.attempts,
        }
        token = dispatcher.track(e)
        await dispatcher.publish_offer(e, linkedid, live.get(linkedid).snapshot)
        self.ctx.spawn(self._dial(e, entry, linkedid, token, dispatcher), f"dial-{linkedid}")

    async def _dial(
        self, e: Offer, entry: CallbackEntry, linkedid: str, token: object, d: Dispatcher
    ) -> None:
        await d.wait_ack(e.agent_id, linkedid)
        if not d.current(e, token):
            return
        s, r, router = self.ctx.settings, entry.record, self.ctx.router
        cb = s.routing.callback
        await self.ctx.callbacks_db.update(
            r.id,
            state=CallbackState.DIALING,
            attempts=entry.attempts,
            agent_id=e.agent_id,
            linkedid=linkedid,
        )
        try:
            # On the agent's node (several Asterisks): the agent is dialled there.
            node = self.ctx.agent_nodes.node_of(e.extension)
            pbx = self.ctx.on_node(node)
            await pbx.originate(
                f"Local/{r.number}@{s.pbx.dialplan.callback_context}",
                purpose=OriginatePurpose.CALLBACK,
                context=s.pbx.dialplan.connect_context,
                exten=e.extension,
                caller_id=cb.caller_id or s.center.hotline_numbers[0],
                variables={
                    "HOTLINE_SKILL": entry.queue,
                    "HOTLINE_PRIORITY": str(r.priority),
                    "HOTLINE_CALL_KIND": "callback",
                    "HOTLINE_CALLBACK_ID": str(r.id),
                    "HOTLINE_CALLBACK_RING_SECONDS": str(cb.ring_seconds),
                    **self.ctx.connect_variables(e.extension, node),
                },
                timeout_seconds=cb.ring_seconds + 5,
                uniqueid=linkedid,
            )
        except PbxUnavailable:
            entry.attempts -= 1
            await d.connector.pbx_away()
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=True)
            return
        except PbxError as exc:
            await self.ctx.run(router.offer_cancelled, e.call_id, requeue=False)
            await self._failed(e.call_id, f"originate refused: {exc}")
            return
        d.connector.watch(e, token, expired=lambda: self._lost(e.call_id))

    # -- what happens to an attempt (events of its Linkedid) ---------------------------------

    def _offered_to(self, core_id: str, extension: str) -> bool:
        agent = self.ctx.router.offer_for(core_id)
        return agent is not None and agent.extension == extension

    async def answered(self, core_id: str, extension: str) -> None:
        entry = self.entries[core_id]
        if not self._offered_to(core_id, extension):
            entry.customer_on_line = True  # the customer's leg (dialled first) answered
            return
        await self.ctx.run(self.ctx.router.answered, core_id)
        await self.ctx.callbacks_db.update(
            entry.record.id, state=CallbackState.CONNECTED, attempts=entry.attempts
        )

    async def agent_no_answer(self, core_id: str, extension: str) -> None:
        entry = self.entries[core_id]
        if not self._offered_to(core_id, extension):
            return  # the customer did not answer: the attempt ends with call.ended
        entry.customer_on_line = True  # waits in the holding queue now (dialplan requeue)
        await self.ctx.run(self.ctx.router.offer_failed, core_id)

    async def ended(self, core_id: str, linkedid: str) -> None:
        entry = self.entries.get(core_id)
        if entry is None or linkedid != entry.linkedid:
            return
        router = self.ctx.router
        if core_id in router.talking:
            await self.ctx.run(router.call_ended, core_id)
            await self._finish(core_id, CallbackState.COMPLETED, "answered")
        elif core_id in router.offers:
            await self.ctx.run(router.offer_cancelled, core_id, requeue=False)
            if entry.customer_on_line:
                await self._finish(core_id, CallbackState.COMPLETED, "customer hung up")
            else:
                await self._failed(core_id, "customer not reached")
        elif core_id in router.calls:
            await self.ctx.run(router.remove_call, core_id, abandoned=True)
            await self._finish(core_id, CallbackState.COMPLETED, "customer hung up waiting")
        self.ctx.live.forget(linkedid)

    async def _lost(self, core_id: str) -> None:
        """Asterisk never said how the attempt ended (its events were lost, e.g. with the
        AMI link). Before the customer answered that is nobody's fault: the agent goes
        back to the waiting callers at once, unblamed, and the customer is retried."""
        entry = self.entries.get(core_id)
        if entry is None or core_id not in self.ctx.router.offers:
            return
        if entry.customer_on_line:  # the agent's phone rang: like any unanswered offer
            await self.ctx.run(self.ctx.router.offer_failed, core_id)
            return
        await self.ctx.run(self.ctx.router.offer_cancelled, core_id, requeue=False)
        await self._failed(core_id, "no outcome from the PBX")

    async def cancel(self, core_id: str, outcome: str) -> None:
        """The requesting caller got an agent after all."""
        if core_id in self.entries and core_id not in self.ctx.router.offers:
            await self.ctx.run(self.ctx.router.remove_call, core_id)
            await self._finish(core_id, CallbackState.CANCELLED, outcome)

    async def _finish(self, core_id: str, state: CallbackState, outcome: str) -> None:
        entry = self.entries.pop(core_id)
        await self.ctx.callbacks_db.update(
            entry.record.id, state=state, attempts=entry.attempts, outcome=outcome
        )

    async def _failed(self, core_id: str, outcome: str) -> None:
        entry = self.entries[core_id]
        cb = self.ctx.settings.routing.callback
        r = entry.record
        if entry.attempts < cb.max_attempts:
            when = self.ctx.clock.timestamp() + cb.retry_interval_seconds
            await self.ctx.callbacks_db.update(
                r.id,
                state=CallbackState.RETRY_WAIT,
                attempts=entry.attempts,
                next_attempt_at=when,
                outcome=outcome,
            )
            self._schedule(core_id, when)
            return
        ticket = await self.ctx.callbacks_db.open_ticket(
            category=cb.ticket_category,
            subject=f"回电未接通 / Callback unreachable: {r.number}",
            description=f"Hotline called {r.number} back {entry.attempts} times for queue "
            f"{entry.queue} without reaching them (last: {outcome}). Please follow up.",
            number=r.number,
            customer_id=r.customer_id,
            linkedid=entry.linkedid,
            relation="callback",
        )
        del self.entries[core_id]
        await self.ctx.callbacks_db.update(
            r.id,
            state=CallbackState.FAILED,
            attempts=entry.attempts,
            outcome=outcome,
            ticket_id=ticket,
        )
