"""The answered campaign call over FastAGI: route `campaign` (settings.campaigns.agi_route).

    campaign_agi = CampaignAgi(services)
    routes = {"campaign": campaign_agi.handle}         # ivr/fastagi.py, hotline/care.py

Dialplan contract (deploy/asterisk/extensions.conf [hotline-campaign]): the engine
(campaigns/engine.py) originates Local/<number>@hotline-campaign-dial into
hotline-campaign,s with HOTLINE_CAMPAIGN_ID, HOTLINE_CONTACT_ID, HOTLINE_ATTEMPT_ID,
HOTLINE_CUSTOMER_ID and HOTLINE_AMD (1/0) plus the AMD() parameters (channel_vars()).
Once the customer answers, the dialplan runs AMD() when HOTLINE_AMD=1, then
AGI(${HOTLINE_AGI}/campaign,${AMDSTATUS},${AMDCAUSE}).

This route reads the attempt (by HOTLINE_ATTEMPT_ID; the database is the truth, the
other variables are for people reading the channel), and:
- AMDSTATUS=MACHINE: outcome `machine`; with amd.on_machine=leave_message the message
  is played once first. HOTLINE_ACTION=hangup.
- a person (HUMAN, NOTSURE, or no AMD): answered_at and amd_status are set (outcome
  `hangup` until the flow ends), the campaign's flow (campaigns/flows.py) runs in the
  customer's language, and its result is written: keys, answers, confirmed, opted out
  (+ a do_not_call row), a surveys row for a survey, a ticket for a booked appointment
  (contact.ticket_id, answers.slot). Outcome `answered` when the flow reached its end,
  `hangup` when the customer left before.
- key 2 (message): the call is handed over like the IVR hands a caller over
  (ivr/handover.py): HOTLINE_ACTION=queue, HOTLINE_SKILL (the campaign's skill, else
  ivr.operator_skill), the customer's id, tier and language, and UserEvent
  HotlineIvrResult, so the router offers it to an agent whose desktop pops the file;
  the dialplan then goes to hotline-queue.
Each result is published on bus topic "campaign": {"type": "campaign.call_result",
campaign_id, contact_id, attempt_id, outcome, end, where (+ message_left for a
machine)}; a hang-up before the end is kept as answers.hung_up_at; before each question
{"type": "campaign.asking", campaign_id, contact_id, attempt_id, step}.

Prompts are rendered with espeak-ng (ivr/prompt_cache.py) into ${HOTLINE_SOUNDS_DIR};
without them a question is a beep and a statement is skipped.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from campaigns.agi_store import CallSubject, CampaignCallStore
from campaigns.flows import (
    AppointmentFlow,
    Ask,
    Finish,
    Flow,
    FlowResult,
    MessageFlow,
    Say,
    Step,
    SurveyFlow,
    Transfer,
)
from campaigns.scripts import (
    AppointmentScript,
    MessageScript,
    ScriptError,
    SurveyScript,
    contact_fields,
    parse_script,
    render_text,
)
from db.models import TicketSource
from db.models.campaigns import AttemptOutcome, CampaignKind
from hotline.services import Services
from ivr.agi import AgiConnection, AgiHangup
from ivr.handover import hand_over
from ivr.prompt_cache import PromptRenderer
from ivr.script import IvrResult, Outcome
from kernel import topics
from kernel.audit import Actor
from kernel.config.campaigns import AmdSettings
from tickets.records import TicketDraft
from tickets.service import TicketService

log = logging.getLogger(__name__)
ACTOR = Actor.system("campaign")
FALLBACK_QUESTION = "beep"  # a stock sound: something to interrupt while keys are awaited
MACHINE = "MACHINE"


def channel_vars(amd: AmdSettings, *, enabled: bool | None = None) -> dict[str, str]:
    """The AMD variables the engine's Originate sets for [hotline-campaign] (one
    variable each: AMI splits an Originate Variable header on commas)."""
    on = amd.enabled if enabled is None else enabled
    return {
        "HOTLINE_AMD": "1" if on else "0",
        "HOTLINE_AMD_INITIAL_SILENCE": str(amd.initial_silence),
        "HOTLINE_AMD_GREETING": str(amd.greeting),
        "HOTLINE_AMD_AFTER_GREETING_SILENCE": str(amd.after_greeting_silence),
        "HOTLINE_AMD_TOTAL_ANALYSIS_TIME": str(amd.total_analysis_time),
    }


def amd_settings(base: AmdSettings, rules: dict[str, Any] | None) -> AmdSettings:
    """config's campaigns.amd with the campaign's own rules["amd"] over it (if valid)."""
    own = (rules or {}).get("amd")
    if not isinstance(own, dict) or not own:
        return base
    try:
        return AmdSettings.model_validate({**base.model_dump(), **own})
    except ValueError:
        log.warning("campaign rules.amd %r is not valid: config's AMD settings used", own)
        return base


class CampaignAgi:
    def __init__(self, services: Services, renderer: PromptRenderer | None = None) -> None:
        self._services = services
        self._renderer = renderer or PromptRenderer(services.settings.ivr.sounds_dir)
        self._store = CampaignCallStore(services)
        self._tickets: TicketService | None = None

    @property
    def store(self) -> CampaignCallStore:
        return self._store

    async def handle(self, agi: AgiConnection, amd_status: str = "", amd_cause: str = "") -> None:
        """Route `campaign`: argument 1 ${AMDSTATUS} (empty without AMD), 2 ${AMDCAUSE}."""
        found = await agi.evaluate(
            "${HOTLINE_ATTEMPT_ID}|${CHANNEL(linkedid)}|${HOTLINE_SOUNDS_DIR}"
        )
        attempt, linkedid, sounds = ([*found.split("|"), "", "", ""])[:3]
        linkedid = linkedid or agi.env.get("agi_uniqueid", "")
        if not attempt.isdigit():
            log.warning("campaign AGI without HOTLINE_ATTEMPT_ID on %s", agi.env.get("agi_channel"))
            return
        subject = await self._store.load(int(attempt))
        if subject is None:
            log.warning("campaign AGI for unknown attempt %s", attempt)
            return
        status = amd_status.strip().upper()
        if status == "HANGUP":
            return  # gone during the detection: the engine classifies the call
        script = self._script(subject)
        language = self._language(subject, script)
        call = _Call(agi, self._renderer, sounds, language)
        if status == MACHINE:
            await self._machine(call, subject, script, linkedid, f"{status} {amd_cause}".strip())
            return
        await self._store.answered(subject.attempt_id, status or None, linkedid)
        flow = self._flow(subject, script, language)
        if flow is None:  # an agent campaign reached here, or a script that cannot run
            await self._transfer(agi, subject, language)
            await self._finish(subject, _agent_result(), linkedid)
            return
        await self._run(call, flow, subject, linkedid)

    # -- the parts --------------------------------------------------------------------

    def _script(self, subject: CallSubject) -> Any:
        categories = [c.name for c in self._services.settings.tickets.categories]
        try:
            return parse_script(
                subject.campaign.kind, subject.campaign.script, categories=categories
            )
        except ScriptError as exc:
            log.error("campaign %s: %s", subject.campaign.id, exc.message)
            return None

    def _language(self, subject: CallSubject, script: Any) -> str:
        own = getattr(script, "language", None)
        if own:
            return str(own)
        if subject.customer is not None:
            return subject.customer.language
        return self._services.settings.center.default_language

    def _message(self, subject: CallSubject, script: MessageScript, language: str) -> str:
        fields = contact_fields(
            subject.contact.data,
            subject.customer.fields() if subject.customer else None,
            name=subject.contact.name,
        )
        return render_text(script.text, fields, language)

    def _flow(self, subject: CallSubject, script: Any, language: str) -> Flow | None:
        timeout = float(self._services.settings.tickets.follow_up.answer_timeout_seconds)
        if isinstance(script, MessageScript):
            text = self._message(subject, script, language)
            return MessageFlow(language=language, timeout_seconds=timeout, text=text)
        if isinstance(script, SurveyScript):
            return SurveyFlow(language=language, timeout_seconds=timeout, script=script)
        if isinstance(script, AppointmentScript):
            return AppointmentFlow(language=language, timeout_seconds=timeout, script=script)
        return None

    async def _machine(
        self, call: _Call, subject: CallSubject, script: Any, linkedid: str, verdict: str
    ) -> None:
        amd = amd_settings(self._services.settings.campaigns.amd, subject.campaign.rules)
        # Recorded first: the engine reads the outcome as soon as the call ends.
        await self._store.machine(subject.attempt_id, verdict.split(" ")[0], linkedid)
        left = amd.on_machine == "leave_message" and isinstance(script, MessageScript)
        if left and isinstance(script, MessageScript):
            with contextlib.suppress(AgiHangup):
                await call.say(Say("message", self._message(subject, script, call.language)))
        await self._publish(subject, AttemptOutcome.MACHINE, "machine", "amd", message_left=left)
        if not call.agi.hung_up:
            await call.agi.set_variable("HOTLINE_ACTION", "hangup")

    async def _run(self, call: _Call, flow: Flow, subject: CallSubject, linkedid: str) -> None:
        """Play the flow. Its result is stored as soon as it is known, before the closing
        words: the engine reads the outcome when the call ends, and a customer may hang
        up during "goodbye"."""
        recorded = False
        try:
            steps: list[Step] = flow.start()
            while steps:
                finish = next((s for s in steps if isinstance(s, Finish)), None)
                if finish is not None and not recorded:
                    recorded = True
                    await self._finish(subject, finish.result, linkedid)
                step, steps = steps[0], steps[1:]
                if isinstance(step, Finish):
                    return
                if isinstance(step, Say):
                    await call.say(step)
                elif isinstance(step, Transfer):
                    await self._transfer(call.agi, subject, call.language)
                else:
                    await self._asking(subject, step.key)
                    steps = flow.answer(await call.ask(step))
        except AgiHangup:
            pass
        if not recorded:
            await self._finish(subject, flow.hung_up(), linkedid)

    async def _asking(self, subject: CallSubject, step: str) -> None:
        await self._services.bus.publish(
            topics.CAMPAIGN,
            {
                "type": "campaign.asking",
                "campaign_id": subject.campaign.id,
                "contact_id": subject.contact.id,
                "attempt_id": subject.attempt_id,
                "step": step,
            },
        )

    async def _transfer(self, agi: AgiConnection, subject: CallSubject, language: str) -> None:
        """Hand the call to the holding queue the way the IVR does (variables + UserEvent)."""
        s = self._services.settings
        customer = subject.customer
        result = IvrResult(
            outcome=Outcome.QUEUE,
            skill=subject.campaign.skill or s.ivr.operator_skill,
            priority=s.campaigns.priority,
            language=language,
            customer_id=customer.id if customer else subject.contact.customer_id,
            tier=customer.tier if customer else None,
            path=("campaign", str(subject.campaign.id)),
            facts=(
                ("campaign", str(subject.campaign.id)),
                ("campaign_name", subject.campaign.name),
                ("contact", str(subject.contact.id)),
            ),
        )
        await hand_over(agi, result, s.pbx.dialplan.holding_queue_prefix)

    async def _finish(self, subject: CallSubject, result: FlowResult, linkedid: str) -> None:
        outcome = AttemptOutcome.ANSWERED if result.finished else AttemptOutcome.HANGUP
        answers: dict[str, Any] = dict(result.answers)
        ticket_id: int | None = None
        campaign = subject.campaign
        if campaign.kind == CampaignKind.SURVEY and result.answers:
            script = self._script(subject)
            rating = _rating(script, result.answers) if isinstance(script, SurveyScript) else None
            survey = await self._store.survey(subject, rating, dict(result.answers), linkedid)
            answers["survey_id"] = survey.id
            await self._services.bus.publish(
                topics.SURVEY,
                {
                    "type": "survey.completed",
                    "survey_id": survey.id,
                    "method": "phone",
                    "rating": rating,
                    "resolved": None,
                    "ticket_id": None,
                    "call_id": survey.call_id,
                    "agent_id": None,
                    "follow_up_id": None,
                    "campaign_id": campaign.id,
                },
            )
        if result.slot is not None:
            ticket_id = await self._book(subject, result, linkedid)
        if result.end in ("declined", "no_choice") and campaign.kind == CampaignKind.APPOINTMENT:
            answers["slot"] = None
        if not result.finished:
            answers["hung_up_at"] = result.where  # the step the customer left at
        await self._store.record(
            subject,
            outcome=outcome,
            keys=result.keys,
            answers=answers,
            confirmed=result.confirmed,
            opted_out=result.opted_out,
            ticket_id=ticket_id,
            linkedid=linkedid,
        )
        await self._publish(subject, outcome, result.end, result.where)

    async def _book(self, subject: CallSubject, result: FlowResult, linkedid: str) -> int | None:
        script = self._script(subject)
        slot = result.slot
        if slot is None or not isinstance(script, AppointmentScript):
            return None
        contact, customer = subject.contact, subject.customer
        tickets = self._tickets or self._services.features.tickets or TicketService(self._services)
        self._tickets = tickets
        when = f"{slot.label}（{slot.date.isoformat()} {slot.period}）".replace(" ）", "）")
        draft = TicketDraft(
            category=script.category,
            subject=f"预约：{slot.label}"[:200],
            description=f"外呼预约（{subject.campaign.name}）：客户按键选择{when}。",
            customer_id=contact.customer_id,
            contact_number=contact.number,
            contact_name=contact.name or (customer.name if customer else None),
            source=TicketSource.SYSTEM,
        )
        try:
            created = await tickets.create(
                draft, ACTOR, linkedid=linkedid or None, detect_repeat=False
            )
        except Exception:
            log.exception("campaign %s: the appointment ticket failed", subject.campaign.id)
            return None
        return created.ticket.id

    async def _publish(
        self,
        subject: CallSubject,
        outcome: AttemptOutcome,
        end: str,
        where: str,
        **extra: Any,
    ) -> None:
        await self._services.bus.publish(
            topics.CAMPAIGN,
            {
                "type": "campaign.call_result",
                "campaign_id": subject.campaign.id,
                "contact_id": subject.contact.id,
                "attempt_id": subject.attempt_id,
                "outcome": outcome.value,
                "end": end,
                "where": where,
                **extra,
            },
        )


def _agent_result() -> FlowResult:
    return FlowResult(
        end="agent", finished=True, where="transfer", agent=True, answers={"agent": True}
    )


def _rating(script: SurveyScript, answers: dict[str, Any]) -> int | None:
    """The answer to the first question on a 1-5 scale: the survey's rating."""
    first = next((q for q in script.questions if q.is_rating), None)
    value = answers.get(first.key) if first is not None else None
    return int(value) if isinstance(value, int) and 1 <= value <= 5 else None


class _Call:
    """Plays the flow's steps on one AGI session in one language."""

    def __init__(
        self, agi: AgiConnection, renderer: PromptRenderer, sounds: str, language: str
    ) -> None:
        self.agi = agi
        self._renderer = renderer
        self._sounds = sounds.rstrip("/")
        self.language = language

    async def _prompt(self, text: str) -> str | None:
        if not self._sounds or not text.strip():
            return None
        name = await self._renderer.render(text, self.language)
        return f"{self._sounds}/{name}" if name else None

    async def say(self, step: Say) -> None:
        path = await self._prompt(step.text)
        if path is not None:
            await self.agi.stream_file(path)

    async def ask(self, step: Ask) -> str | None:
        played = False
        for text in step.texts:
            path = await self._prompt(text)
            if path is None:
                continue
            played = True
            key = await self.agi.stream_file(path, escape=step.keys)
            if key:
                return key
        if not played:
            key = await self.agi.stream_file(FALLBACK_QUESTION, escape=step.keys)
            if key:
                return key
        key = await self.agi.wait_for_digit(step.timeout_seconds)
        return key or None
