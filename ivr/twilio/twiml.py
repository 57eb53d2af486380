"""TwiML for one webhook response: what the interpreter said, asked, or how the IVR ended.

    Say(items)      -> <Say language="zh-CN|en-US">prompt texts, numbers, digits</Say>
    Ask(...)        -> <Gather input="dtmf" numDigits timeout finishOnKey action=step?n=..>
                         <Say>...</Say></Gather>
                       <Redirect>step?n=..&silence=1</Redirect>     (nothing pressed)
    queue           -> <Enqueue action=queue-result>queue</Enqueue>, or with a TaskRouter
                       workflow (twilio.workflow_sid): <Enqueue workflowSid><Task priority>,
                       or, when Hotline's router picks the agent (twilio.agent_sip_uri):
                       <Enqueue action=queue-result>hotline-<CallSid></Enqueue>, a queue of
                       the caller's own that the agent's leg dequeues (agent_leg below)
    self-service, callback -> <Hangup/>

`n` is the number of replies recorded when the question was asked: a retried or
duplicated request (same n twice) cannot record the same keys twice (ivr/twilio/routes.py).
Prompts are spoken by Twilio's text-to-speech from config.yaml's texts, in the call's
language at that moment.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from ivr.replay import Step
from ivr.script import (
    Ask,
    Date,
    Digits,
    IvrResult,
    Money,
    Number,
    Outcome,
    Prompt,
    Say,
    Text,
    Utterance,
)
from kernel.config.common import Label
from kernel.config.settings import Settings

TWILIO_LANGUAGES = {"zh": "zh-CN", "en": "en-US"}


@dataclass(frozen=True)
class Urls:
    """Absolute public URLs of the webhooks (twilio.public_base_url + path)."""

    step: str  # POST /twilio/ivr/step
    queue_result: str  # POST /twilio/ivr/queue (Enqueue's action: how the wait ended)

    def step_url(self, n: int, *, silence: bool = False) -> str:
        query = {"n": str(n), **({"silence": "1"} if silence else {})}
        return f"{self.step}?{urlencode(query)}"


def spoken(item: Utterance, language: str, prompts: Mapping[str, Label]) -> str:
    """The text Twilio says for one utterance."""
    zh = language == "zh"
    if isinstance(item, Prompt):
        label = prompts.get(item.name)
        return label.get(language) if label is not None else ""
    if isinstance(item, Text):
        return item.text
    if isinstance(item, Number):
        return str(item.value)
    if isinstance(item, Digits):
        return " ".join(item.digits)  # one by one: "1 3 9", not "one hundred thirty-nine"
    if isinstance(item, Money):
        return f"{item.amount:.2f}"
    if isinstance(item, Date):
        d = item.day
        return f"{d.year}年{d.month}月{d.day}日" if zh else f"{d:%B} {d.day}, {d.year}"
    raise TypeError(f"cannot say {item!r}")


def say_text(items: tuple[Utterance, ...], language: str, prompts: Mapping[str, Label]) -> str:
    parts = (spoken(item, language, prompts) for item in items)
    return " ".join(p for p in parts if p)


def _say(parent: VoiceResponse, say: Say | Ask, prompts: Mapping[str, Label]) -> None:
    text = say_text(say.items, say.language, prompts)
    if text:
        parent.say(text, language=TWILIO_LANGUAGES.get(say.language, "en-US"))


def step_response(step: Step, n: int, settings: Settings, urls: Urls, call_id: str = "") -> str:
    """The TwiML document answering a webhook of call `call_id` (CallSid), `n` replies
    recorded so far."""
    prompts = settings.ivr.prompts
    r = VoiceResponse()
    for say in step.said:
        _say(r, say, prompts)
    if step.ask is not None:
        _gather(r, step.ask, n, urls, prompts)
    elif step.result is not None:
        _end(r, step.result, settings, urls, call_id)
    else:
        r.hangup()
    return str(r)


def _gather(r: VoiceResponse, ask: Ask, n: int, urls: Urls, prompts: Mapping[str, Label]) -> None:
    gather = r.gather(
        input="dtmf",  # a string, not a list (twilio 9)
        num_digits=ask.max_digits,
        # A menu choice takes "#" (back) as a key; an account number ends with it.
        finish_on_key=ask.terminator,
        timeout=max(1, math.ceil(ask.timeout_seconds)),
        action=urls.step_url(n),
        method="POST",
    )
    _say(gather, ask, prompts)
    r.redirect(urls.step_url(n, silence=True), method="POST")


def queue_name(settings: Settings, skill: str) -> str:
    found = settings.queue_for_skill(skill)
    return found.name if found is not None else skill


def caller_queue(call_id: str) -> str:
    """The Twilio queue of one caller whose agent Hotline's router picks."""
    return f"hotline-{call_id}"


def agent_leg(call_id: str) -> str:
    """TwiML of the call Twilio places to the agent's phone: once answered, it takes
    exactly this caller out of its queue and bridges them."""
    r = VoiceResponse()
    r.dial().queue(caller_queue(call_id))
    return str(r)


def _end(r: VoiceResponse, result: IvrResult, settings: Settings, urls: Urls, call_id: str) -> None:
    if result.outcome is not Outcome.QUEUE:
        r.hangup()
        return
    if settings.twilio.agent_sip_uri and call_id:  # Hotline's router picks the agent
        r.enqueue(caller_queue(call_id), action=urls.queue_result, method="POST")
        return
    queue = queue_name(settings, result.skill)
    workflow = settings.twilio.workflow_sid
    if not workflow:
        r.enqueue(queue, action=urls.queue_result, method="POST")
        return
    attributes = {
        "queue": queue,
        "skill": result.skill,
        "customer_id": result.customer_id,
        "tier": result.tier,
        "language": result.language,
        "ivr_path": "/".join(result.path),
    }
    enqueue = r.enqueue(None, workflow_sid=workflow, action=urls.queue_result, method="POST")
    enqueue.task(json.dumps(attributes, ensure_ascii=False), priority=result.priority)
