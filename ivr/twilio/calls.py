"""The Twilio IVR's work per webhook: replay, lookups, TwiML, call-log events.

Each call (CallSid) is a `CallRecord` in the replay store (ivr/replay.py). Events go to
the bus topic "call" shaped exactly like the CTI tracker's (cti/events.py, snapshot of
cti/tracking/model.Call), with call_id = CallSid, so the CallLogWriter writes one record
per call and routing sees callback requests:

    call.started           the voice webhook (first request)
    call.ivr_step          each node entered (node, input), as it happens
    call.ivr_completed     the IVR's result (outcome, skill, priority, customer, facts)
    call.callback_requested (number)      the callback outcome, for routing
    call.queued (queue)    the caller was handed to Twilio's queue (<Enqueue>)
    call.offered, call.answered, call.agent_no_answer (agent, status)
                           Twilio's callbacks about the call to one of Hotline's agents
                           (/twilio/agent/status, when twilio.agent_sip_uri is set)
    call.ended             status callback completed/busy/failed/no-answer/canceled

Every event carries "via": "twilio" (cti/events.py VIA_TWILIO): the router must never try
to reach such a caller through Asterisk (routing/pbx/twilio_offers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cti.events import VIA_TWILIO, CallEventType
from cti.tracking.model import Call
from hotline.services import Services
from ivr.directory import DbDirectory
from ivr.driver import CallContext, Directory, ask_directory
from ivr.interpreter import Interpreter
from ivr.replay import CallRecord, ReplayStore, Step, advance
from ivr.script import IvrResult, Outcome, Query, Reply
from ivr.twilio.twiml import Urls, queue_name, step_response
from kernel import topics
from kernel.calls import Disposition

ENDED_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
# An agent's leg that ended unanswered -> the DialEnd status the tracker would report.
LEG_NOT_ANSWERED = {
    "no-answer": "NOANSWER",
    "busy": "BUSY",
    "failed": "CHANUNAVAIL",
    "canceled": "CANCEL",
}
KEYS = set("0123456789*#")


@dataclass
class Progress:
    """What the replay found, for the call snapshot."""

    path: list[str]
    result: IvrResult | None


class TwilioIvr:
    def __init__(self, services: Services, store: ReplayStore, directory: Directory | None = None):
        self.services = services
        self.settings = services.settings
        self.store = store
        self.interpreter = Interpreter(services.settings)
        self.directory: Directory = directory or DbDirectory(services)

    # -- webhooks ----------------------------------------------------------------------

    async def voice(self, form: dict[str, str], urls: Urls) -> str:
        sid = form.get("CallSid", "")
        async with self.store.lock(sid):
            record = await self.store.load(sid)
            if record is not None:  # Twilio retried the voice webhook: ask again
                return await self._repeat(record, urls)
            return await self._start(form, urls)

    async def step(self, form: dict[str, str], n: int, silence: bool, urls: Urls) -> str:
        sid = form.get("CallSid", "")
        async with self.store.lock(sid):
            record = await self.store.load(sid)
            if record is None:  # expired (a call over an hour in the IVR): start over
                return await self._start(form, urls)
            if n != len(record.replies):  # a retried or late request: already answered
                return await self._repeat(record, urls)
            digits = "" if silence else "".join(c for c in form.get("Digits", "") if c in KEYS)
            return await self._advance(record, digits, urls)

    async def status(self, form: dict[str, str]) -> None:
        sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
        if status not in ENDED_STATUSES:
            return
        async with self.store.lock(sid):
            record = await self.store.load(sid)
            if record is None:  # ended before the voice webhook (or over an hour ago)
                record = await self._new_record(form)
            if record.ended_at is not None:
                return  # a repeated callback
            record.ended_at = self.services.clock.timestamp()
            progress = await self._replay(record)
            await self._publish(record, CallEventType.ENDED, progress, status=status)
            await self.store.save(record)

    async def queue_result(self, form: dict[str, str]) -> None:
        """Enqueue's action: the caller left Twilio's queue (QueueResult, QueueTime)."""
        sid = form.get("CallSid", "")
        async with self.store.lock(sid):
            record = await self.store.load(sid)
            if record is None or record.queued_at is None:
                return
            if form.get("QueueResult") in ("bridged", "redirected-from-bridged"):
                waited = float(form.get("QueueTime") or 0)
                record.answered_at = record.queued_at + waited
                await self.store.save(record)

    async def agent_status(self, form: dict[str, str], call_id: str, agent: str) -> None:
        """Status callback of the call Twilio placed to agent `agent` for caller `call_id`
        (ivr/twilio/agents.py): the tracker's offered / answered / no-answer events."""
        leg, status = form.get("CallSid", ""), form.get("CallStatus", "")
        async with self.store.lock(call_id):
            record = await self.store.load(call_id)
            if record is None or record.ended_at is not None or leg == call_id:
                return  # unknown, over, or not an agent leg
            if record.agent_legs.get(leg) == status:
                return  # Twilio repeated a callback
            now = self.services.clock.timestamp()
            extra: dict[str, Any] = {"agent": agent}
            if status == "ringing":
                record.offers += 1
                record.offered_at = record.offered_at or now
                kind = CallEventType.OFFERED
            elif status == "in-progress":
                record.answered_at = record.answered_at or now
                if agent not in record.agents:
                    record.agents.append(agent)
                kind = CallEventType.ANSWERED
            elif status in LEG_NOT_ANSWERED:
                record.no_answers += 1
                extra["status"] = LEG_NOT_ANSWERED[status]
                kind = CallEventType.AGENT_NO_ANSWER
            else:
                return  # queued, initiated; completed after an answer (the caller's ends it)
            record.agent_legs[leg] = status
            await self._publish(record, kind, await self._replay(record), **extra)
            await self.store.save(record)

    # -- the replay ----------------------------------------------------------------------

    async def _start(self, form: dict[str, str], urls: Urls) -> str:
        record = await self._new_record(form)
        return await self._advance(record, None, urls)

    async def _new_record(self, form: dict[str, str]) -> CallRecord:
        record = CallRecord(
            call_id=form.get("CallSid", ""),
            caller_number=form.get("From", ""),
            dialed_number=form.get("To", ""),
            started_at=self.services.clock.timestamp(),
        )
        await self._publish(record, CallEventType.STARTED, Progress([], None))
        return record

    def _flow(self, record: CallRecord) -> Any:
        return self.interpreter.run(record.caller_number)

    async def _replay(self, record: CallRecord) -> Progress:
        step = await advance(self._flow(record), list(record.replies), None, None)
        return Progress(step.path, step.result)

    async def _repeat(self, record: CallRecord, urls: Urls) -> str:
        step = await advance(self._flow(record), list(record.replies), None, None)
        step.said.clear()
        return step_response(step, len(record.replies), self.settings, urls, record.call_id)

    async def _advance(self, record: CallRecord, digits: str | None, urls: Urls) -> str:
        context = CallContext(record.call_id, record.caller_number, record.dialed_number)
        timeout = self.settings.ivr.lookup_timeout_seconds

        async def lookup(query: Query) -> Reply:
            return await ask_directory(self.directory, query, context, timeout)

        step = await advance(self._flow(record), record.replies, digits, lookup)
        first = len(step.path) - len(step.marks)  # the new marks end the path
        for i, mark in enumerate(step.marks):
            progress = Progress(step.path[: first + i + 1], None)
            await self._publish(
                record, CallEventType.IVR_STEP, progress, node=mark.node, input=mark.input
            )
        if step.result is not None and record.ivr_ended_at is None:
            await self._completed(record, step)
        await self.store.save(record)
        return step_response(step, len(record.replies), self.settings, urls, record.call_id)

    async def _completed(self, record: CallRecord, step: Step) -> None:
        result = step.result
        assert result is not None
        now = self.services.clock.timestamp()
        record.ivr_ended_at = now
        progress = Progress(step.path, result)
        await self._publish(record, CallEventType.IVR_COMPLETED, progress)
        if result.outcome is Outcome.CALLBACK:
            number = result.callback_number
            await self._publish(record, CallEventType.CALLBACK_REQUESTED, progress, number=number)
        elif result.outcome is Outcome.QUEUE:
            record.queue, record.queued_at = queue_name(self.settings, result.skill), now
            await self._publish(
                record,
                CallEventType.QUEUED,
                progress,
                queue=record.queue,
                position=0,
                channel="",
                uniqueid="",
            )

    # -- events --------------------------------------------------------------------------

    async def _publish(
        self, record: CallRecord, kind: CallEventType, progress: Progress, **extra: Any
    ) -> None:
        record.seq += 1
        at = self.services.clock.timestamp()
        event: dict[str, Any] = {"type": kind.value, "call_id": record.call_id, "seq": record.seq}
        event["at"] = at
        event["via"] = VIA_TWILIO
        event.update(extra)
        event["call"] = self._snapshot(record, progress, extra.get("status"))
        await self.services.bus.publish(topics.CALL, event)

    def _snapshot(self, record: CallRecord, progress: Progress, status: str | None) -> Any:
        call = Call(call_id=record.call_id, started_at=record.started_at)
        call.caller_number = record.caller_number
        call.dialed_number = record.dialed_number
        call.ivr_path = list(progress.path)
        result = progress.result
        if result is not None:
            call.ivr_ended_at = record.ivr_ended_at
            call.ivr_outcome = result.outcome.value
            call.skill = queue_name(self.settings, result.skill)
            call.priority = result.priority
            call.customer_id = str(result.customer_id) if result.customer_id else None
            call.tier = result.tier
            call.language = result.language
            call.ivr_facts = result.facts_text()
            call.callback_requested = result.outcome is Outcome.CALLBACK
        call.queued_at = record.queued_at
        call.offered_at = record.offered_at
        call.offers, call.no_answers = record.offers, record.no_answers
        call.agents = list(record.agents)
        call.agent = record.agents[0] if record.agents else None
        call.answered_at = record.answered_at
        call.ended_at = record.ended_at
        call.seq = record.seq
        if record.ended_at is not None:
            call.hangup_cause_txt = status
            call.disposition = call.final_disposition()
            if record.answered_at is not None:
                call.disposition = Disposition.ANSWERED
                call.talk_seconds = round(max(0.0, record.ended_at - record.answered_at), 3)
            elif status not in (None, "completed") and not call.ivr_path:
                call.disposition = Disposition.FAILED  # never reached the IVR
        return call.snapshot()
