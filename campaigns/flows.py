"""What a campaign call says and hears, as pure flows (no I/O): steps out, keys in.

    flow = MessageFlow(text="孙丽您好，您的燃气费欠费128.50元……", language="zh")
    steps = flow.start()               # [Ask("menu", (message, menu), keys)]
    steps = flow.answer("3")           # [Say("confirmed", ...), Finish(result)]

Steps: `Say` (play a text), `Ask` (play its texts one after the other, any key
interrupts; then wait `timeout_seconds` for one key), `Transfer` (hand the call to an
agent: the driver hands over, nothing more is played) and `Finish` (the result). The
driver (campaigns/agi.py) feeds each Ask's key back with answer(key), None for no key;
when the customer hangs up it asks hung_up() for the result so far.

Message (reminder, outage notice): the text then the menu "1 repeat, 2 agent, 3
confirm, 9 opt out". 1 repeats the text (up to `max_repeats` times; once more ends the
call as heard), 2 transfers to an agent, 3 confirms (thanks), 9 opts out (confirmation
that we won't call again). No key: the text once more, then goodbye (heard). Any other
key (0, 4-8, *, #): "invalid" and the menu again; `max_errors` of them end the call.
Survey: each question; a key in its range is the answer; a wrong key or no key asks
again up to `retries` times, then the question is skipped. Thanks at the end.
Appointment: the slots ("for 12月8日上午 press 1 ... none of these press 9"), a key
picks, "you chose ... press 1 to confirm, 2 to choose again"; 1 books it, 9 declines.
Unclear answers are asked again up to `retries` times, then the call ends unbooked.

Every flow ends with a Finish whose FlowResult says how (`end`): heard, confirmed,
opted_out, agent, errors (message); done (survey); booked, declined, no_choice
(appointment); hangup (the customer left first, `where` = the step they left at).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from campaigns.scripts import AppointmentScript, Slot, SurveyScript

MENU_KEYS = "0123456789*#"  # any key is heard: the wrong ones say "invalid"
REPEAT, AGENT, CONFIRM, OPT_OUT = "1", "2", "3", "9"
DECLINE = "9"
CONFIRM_SLOT, CHOOSE_AGAIN = "1", "2"


@dataclass(frozen=True)
class Say:
    key: str  # confirmed, opted_out, invalid, goodbye, to_agent, intro, thanks
    text: str


@dataclass(frozen=True)
class Ask:
    key: str  # menu, a question's key, slot, confirm
    texts: tuple[str, ...]  # played in order; a key interrupts
    keys: str  # the keys that interrupt the prompts
    timeout_seconds: float


@dataclass(frozen=True)
class Transfer:
    """Hand the call over to an agent (the holding queue); the flow then finishes."""


@dataclass(frozen=True)
class FlowResult:
    end: str  # heard confirmed opted_out agent errors done booked declined no_choice hangup
    finished: bool  # the flow reached its end (False: the customer hung up first)
    where: str  # the last step heard (its key): where a hang-up happened
    keys: str = ""  # every key pressed, in order
    confirmed: bool = False
    opted_out: bool = False
    agent: bool = False  # asked for an agent (key 2)
    answers: dict[str, Any] = field(default_factory=dict)
    slot: Slot | None = None  # the appointment booked


@dataclass(frozen=True)
class Finish:
    result: FlowResult


Step = Say | Ask | Transfer | Finish


class Flow(Protocol):
    language: str

    def start(self) -> list[Step]: ...

    def answer(self, key: str | None) -> list[Step]: ...

    def hung_up(self) -> FlowResult: ...


TEXTS = {
    "zh": {
        "menu": "重听请按1，转人工服务请按2，确认收到请按3，如不希望再接到此类来电请按9。",
        "invalid": "您的输入有误，请重新选择。",
        "confirmed": "感谢您的确认，再见。",
        "opted_out": "您已成功退订，我们今后将不再拨打此类电话。再见。",
        "to_agent": "正在为您转接人工服务，请稍候。",
        "goodbye": "感谢您的接听，再见。",
        "thanks": "感谢您的配合，再见。",
        "survey_invalid": "您的输入有误。",
        "slot_item": "{label}请按{key}，",
        "slot_none": "以上时间都不合适请按9。",
        "slot_confirm": "您选择的是{label}，确认请按1，重新选择请按2。",
        "booked": "已为您预约{label}，届时工作人员将上门服务。再见。",
        "declined": "好的，我们将另行与您联系。再见。",
    },
    "en": {
        "menu": "To hear this again press 1, to talk to an agent press 2, to confirm press 3, "
        "to receive no more such calls press 9.",
        "invalid": "Sorry, that is not a valid choice.",
        "confirmed": "Thank you for confirming. Goodbye.",
        "opted_out": "You will not receive such calls from us again. Goodbye.",
        "to_agent": "Please hold, we are connecting you to an agent.",
        "goodbye": "Thank you for listening. Goodbye.",
        "thanks": "Thank you. Goodbye.",
        "survey_invalid": "Sorry, that is not a valid answer.",
        "slot_item": "For {label} press {key}. ",
        "slot_none": "If none of these suits you, press 9.",
        "slot_confirm": "You chose {label}. To confirm press 1, to choose again press 2.",
        "booked": "Your appointment is booked for {label}. Goodbye.",
        "declined": "We will contact you again. Goodbye.",
    },
}


def text(language: str, name: str, **values: str) -> str:
    texts = TEXTS.get(language, TEXTS["zh"])
    return texts[name].format(**values) if values else texts[name]


@dataclass
class _Base:
    language: str = "zh"
    timeout_seconds: float = 6.0
    keys: list[str] = field(default_factory=list)
    where: str = "start"
    _result: FlowResult | None = None

    def _finish(self, end: str, **kw: Any) -> Finish:
        self._result = FlowResult(
            end=end, finished=True, where=self.where, keys="".join(self.keys), **kw
        )
        return Finish(self._result)

    def _check(self, key: str | None) -> str | None:
        if self._result is not None:
            raise RuntimeError("the flow is over")
        if key is not None and len(key) != 1:  # several keys at once: the first counts
            key = key[:1] or None
        if key:
            self.keys.append(key)
        return key

    def _ask(self, key: str, *texts: str, keys: str) -> Ask:
        self.where = key
        return Ask(key, tuple(t for t in texts if t), keys, self.timeout_seconds)

    def _say(self, key: str, words: str) -> Say:
        self.where = key
        return Say(key, words)

    @property
    def result(self) -> FlowResult | None:
        return self._result

    def hung_up(self) -> FlowResult:
        if self._result is not None:  # hung up during the goodbye: the flow had ended
            return self._result
        return self._partial()

    def _partial(self) -> FlowResult:
        return FlowResult(end="hangup", finished=False, where=self.where, keys="".join(self.keys))


@dataclass
class MessageFlow(_Base):
    text: str = ""
    max_repeats: int = 3
    max_errors: int = 3
    repeats: int = 0
    silences: int = 0
    errors: int = 0

    def start(self) -> list[Step]:
        return [self._menu(with_message=True)]

    def _menu(self, *, with_message: bool) -> Ask:
        words = (self.text,) if with_message else ()
        return self._ask("menu", *words, text(self.language, "menu"), keys=MENU_KEYS)

    def answer(self, key: str | None) -> list[Step]:
        key = self._check(key)
        lang = self.language
        if key is None:
            self.silences += 1
            if self.silences <= 1:
                return [self._menu(with_message=True)]
            return [self._say("goodbye", text(lang, "goodbye")), self._finish("heard")]
        if key == REPEAT:
            self.repeats += 1
            if self.repeats <= self.max_repeats:
                return [self._menu(with_message=True)]
            return [self._say("goodbye", text(lang, "goodbye")), self._finish("heard")]
        if key == AGENT:
            return [
                self._say("to_agent", text(lang, "to_agent")),
                Transfer(),
                self._finish("agent", agent=True, answers={"agent": True}),
            ]
        if key == CONFIRM:
            return [
                self._say("confirmed", text(lang, "confirmed")),
                self._finish("confirmed", confirmed=True),
            ]
        if key == OPT_OUT:
            return [
                self._say("opted_out", text(lang, "opted_out")),
                self._finish("opted_out", opted_out=True),
            ]
        self.errors += 1
        if self.errors >= self.max_errors:
            return [self._say("goodbye", text(lang, "goodbye")), self._finish("errors")]
        return [self._say("invalid", text(lang, "invalid")), self._menu(with_message=False)]


@dataclass
class SurveyFlow(_Base):
    script: SurveyScript | None = None
    retries: int = 2
    answers: dict[str, int] = field(default_factory=dict)
    _index: int = 0
    _tries: int = 0

    def start(self) -> list[Step]:
        assert self.script is not None, "a survey flow needs its script"
        intro = [self._say("intro", self.script.intro)] if self.script.intro else []
        return [*intro, self._question()]

    def _question(self) -> Ask:
        assert self.script is not None
        q = self.script.questions[self._index]
        return self._ask(q.key, q.text, keys=q.keys)

    def answer(self, key: str | None) -> list[Step]:
        key = self._check(key)
        assert self.script is not None
        q = self.script.questions[self._index]
        if key is not None and key in q.keys:
            self.answers[q.key] = int(key)
            return self._next()
        self._tries += 1
        if self._tries <= self.retries:
            invalid = [] if key is None else [Say("invalid", text(self.language, "survey_invalid"))]
            return [*invalid, self._question()]
        return self._next()  # skipped: no answer to this one

    def _next(self) -> list[Step]:
        assert self.script is not None
        self._tries = 0
        self._index += 1
        if self._index < len(self.script.questions):
            return [self._question()]
        thanks = self.script.thanks or text(self.language, "thanks")
        return [self._say("thanks", thanks), self._finish("done", answers=dict(self.answers))]

    def _partial(self) -> FlowResult:
        base = super()._partial()
        return FlowResult(
            end=base.end,
            finished=False,
            where=base.where,
            keys=base.keys,
            answers=dict(self.answers),
        )


@dataclass
class AppointmentFlow(_Base):
    script: AppointmentScript | None = None
    retries: int = 2
    chosen: Slot | None = None
    _tries: int = 0

    def start(self) -> list[Step]:
        assert self.script is not None, "an appointment flow needs its script"
        return [self._slots(intro=True)]

    def _slots(self, *, intro: bool) -> Ask:
        assert self.script is not None
        listing = "".join(
            text(self.language, "slot_item", label=s.label, key=s.key) for s in self.script.slots
        ) + text(self.language, "slot_none")
        keys = "".join(s.key for s in self.script.slots) + DECLINE
        return self._ask("slot", self.script.intro if intro else "", listing, keys=keys)

    def _confirm(self) -> Ask:
        assert self.chosen is not None
        words = text(self.language, "slot_confirm", label=self.chosen.label)
        return self._ask("confirm", words, keys=CONFIRM_SLOT + CHOOSE_AGAIN)

    def answer(self, key: str | None) -> list[Step]:
        key = self._check(key)
        assert self.script is not None
        lang = self.language
        if self.where == "slot":
            if key == DECLINE:
                return [self._say("declined", text(lang, "declined")), self._finish("declined")]
            slot = self.script.slot(key) if key else None
            if slot is not None:
                self.chosen, self._tries = slot, 0
                return [self._confirm()]
            return self._unclear(key, self._slots(intro=False))
        # confirm
        if key == CONFIRM_SLOT and self.chosen is not None:
            slot = self.chosen
            words = text(lang, "booked", label=slot.label)
            return [
                self._say("booked", words),
                self._finish("booked", slot=slot, answers=_slot(slot)),
            ]
        if key == CHOOSE_AGAIN:
            self.chosen, self._tries = None, 0
            return [self._slots(intro=False)]
        return self._unclear(key, self._confirm())

    def _unclear(self, key: str | None, again: Ask) -> list[Step]:
        self._tries += 1
        if self._tries <= self.retries:
            invalid = [] if key is None else [Say("invalid", text(self.language, "invalid"))]
            return [*invalid, again]
        return [self._say("goodbye", text(self.language, "declined")), self._finish("no_choice")]


def _slot(slot: Slot) -> dict[str, Any]:
    return {
        "slot": {
            "key": slot.key,
            "label": slot.label,
            "date": slot.date.isoformat(),
            "period": slot.period,
        }
    }
