"""The survey over AGI: FastAGI routes `followup` and `survey`.

    surveys = SurveyAgi(services)
    routes = {"followup": surveys.handle_followup, "survey": surveys.handle_post_call}

`followup` (deploy/asterisk/extensions.conf [hotline-followup]): AGI argument 1 is the
ticket id; the channel carries HOTLINE_FOLLOWUP_ID (set by FollowUpDialer's Originate).
`survey` (post-call, after the agent hangs up): argument 1 is the call's Linkedid
(optional; read from the channel otherwise).

Prompts are rendered with espeak-ng into ${HOTLINE_SOUNDS_DIR}/tickets/ (a global the
dialplan defines; the renderer writes settings.ivr.sounds_dir, the same directory seen
from Hotline); without them the ticket number is spelled with SAY ALPHA and questions
are a beep. Before each question the flow publishes {"type": "survey.asking",
"question": "rating" | "resolved", "linkedid", "ticket_id"} on bus topic "survey".
"""

from __future__ import annotations

import logging
import re

from db.models import Customer, SurveyMethod, Ticket
from followups.survey import Ask, Finish, Say, Step, SurveyFlow, SurveyKind, SurveyOutcome
from followups.survey_store import SurveyStore, from_outcome
from hotline.services import Services
from ivr.agi import AgiHangup, AgiSession, quote
from ivr.prompt_cache import PromptRenderer
from kernel import topics

log = logging.getLogger(__name__)
FALLBACK_QUESTION = "beep"  # a stock Asterisk sound: GET DATA needs a playable prompt


class SurveyAgi:
    def __init__(self, services: Services, renderer: PromptRenderer | None = None) -> None:
        self._services = services
        self._renderer = renderer or PromptRenderer(services.settings.ivr.sounds_dir)
        self._store = SurveyStore(services)

    async def handle_followup(self, agi: AgiSession, ticket_id: str = "") -> None:
        """Route `followup`: play the ticket's result, ask rating and resolved, store."""
        if not ticket_id.isdigit():
            log.warning("followup AGI without a ticket id (%r)", ticket_id)
            return
        async with self._services.sessions() as session:
            ticket = await session.get(Ticket, int(ticket_id))
            customer = (
                await session.get(Customer, ticket.customer_id)
                if ticket and ticket.customer_id
                else None
            )
        if ticket is None:
            log.warning("followup AGI for unknown ticket %s", ticket_id)
            return
        language = (
            customer.language.value if customer else self._services.settings.center.default_language
        )
        follow_up = await _variable(agi, "HOTLINE_FOLLOWUP_ID")
        flow = self._flow(SurveyKind.FOLLOW_UP, language, ticket.number, ticket.resolution or "")
        linkedid = await _variable(agi, "${CHANNEL(linkedid)}", full=True)
        outcome = await self._run(agi, flow, linkedid, ticket.id)
        await self._store.record(
            from_outcome(
                outcome,
                SurveyMethod.PHONE,
                linkedid=linkedid or None,
                ticket_id=ticket.id,
                follow_up_id=int(follow_up) if follow_up.isdigit() else None,
            )
        )

    async def handle_post_call(self, agi: AgiSession, linkedid: str = "") -> None:
        """Route `survey`: rate the agent after the call (the caller stayed on the line)."""
        linkedid = linkedid or await _variable(agi, "${CHANNEL(linkedid)}", full=True)
        flow = self._flow(SurveyKind.POST_CALL, self._services.settings.center.default_language)
        outcome = await self._run(agi, flow, linkedid, None)
        if outcome.inputs:
            await self._store.record(from_outcome(outcome, SurveyMethod.IVR, linkedid=linkedid))

    def _flow(
        self, kind: SurveyKind, language: str, number: str = "", result: str = ""
    ) -> SurveyFlow:
        center = self._services.settings.center.name
        timeout = self._services.settings.tickets.follow_up.answer_timeout_seconds
        return SurveyFlow(
            kind,
            language=language,
            center=center.zh if language == "zh" else center.en,
            number=number,
            resolution=result,
            timeout_seconds=timeout,
        )

    async def _run(
        self, agi: AgiSession, flow: SurveyFlow, linkedid: str, ticket_id: int | None
    ) -> SurveyOutcome:
        try:
            sounds = await _variable(agi, "HOTLINE_SOUNDS_DIR")
            steps: list[Step] = flow.start()
            while steps:
                step, steps = steps[0], steps[1:]
                if isinstance(step, Finish):
                    return step.outcome
                if isinstance(step, Say):
                    await self._say(agi, step, sounds, flow.language)
                    continue
                await self._services.bus.publish(
                    topics.SURVEY,
                    {
                        "type": "survey.asking",
                        "question": step.key,
                        "linkedid": linkedid,
                        "ticket_id": ticket_id,
                    },
                )
                steps = flow.answer(await self._ask(agi, step, sounds, flow.language))
        except AgiHangup:
            pass
        return flow.outcome()

    async def _prompt(self, text: str, sounds: str, language: str) -> str | None:
        if not sounds:
            return None
        name = await self._renderer.render(text, language)
        return f"{sounds.rstrip('/')}/{name}" if name else None

    async def _say(self, agi: AgiSession, step: Say, sounds: str, language: str) -> None:
        path = await self._prompt(step.text, sounds, language)
        if path is not None:
            reply = await agi.command(f'STREAM FILE {path} ""')
        elif step.digits:
            spoken = re.sub(r"[^0-9A-Za-z]", "", step.digits)
            reply = await agi.command(f'SAY ALPHA {spoken} ""')
        else:
            return
        if reply.result == "-1":
            raise AgiHangup(step.key)

    async def _ask(self, agi: AgiSession, step: Ask, sounds: str, language: str) -> str | None:
        path = await self._prompt(step.text, sounds, language) or FALLBACK_QUESTION
        timeout_ms = int(step.timeout_seconds * 1000)
        reply = await agi.command(f"GET DATA {path} {timeout_ms} 1")
        if reply.result == "-1":
            raise AgiHangup(step.key)
        return reply.result or None


async def _variable(agi: AgiSession, name: str, *, full: bool = False) -> str:
    """A channel (or global) variable; "" when unset."""
    command = f"GET FULL VARIABLE {quote(name)}" if full else f"GET VARIABLE {name}"
    reply = await agi.command(command)
    return reply.data if reply.result == "1" else ""
