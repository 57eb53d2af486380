"""The keypad satisfaction survey as a pure flow (no I/O): steps out, keys in.

Follow-up call (回访) after a complaint or repair is resolved:
    1. say: who we are, the ticket number and the result;
    2. ask: "rate us": keys 1-5 are the rating (5 = very satisfied, 1 = very unhappy);
    3. ask: "is it solved?": key 1 = NOT resolved (the ticket reopens), key 2 = resolved;
    4. say: thanks (or: we reopened your case), hang up.
So a customer who presses 2 then 1 rates 2 and says the problem is not resolved.
Post-call survey (the caller stays on the line after the agent hangs up): step 2 only.
A timeout or a wrong key repeats the question once, then the answer stays unknown.
The AGI driver (followups/survey_agi.py) plays the steps; outcome() is what to store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

RATING_KEYS = "12345"
NOT_RESOLVED_KEY = "1"
RESOLVED_KEY = "2"


class SurveyKind(StrEnum):
    FOLLOW_UP = "follow_up"
    POST_CALL = "post_call"


@dataclass(frozen=True)
class Say:
    key: str  # intro, invalid, thanks, reopened
    text: str
    digits: str = ""  # what to say with stock sounds if the text cannot be rendered


@dataclass(frozen=True)
class Ask:
    key: str  # rating, resolved
    text: str
    keys: str
    timeout_seconds: float


@dataclass(frozen=True)
class SurveyOutcome:
    rating: int | None
    resolved: bool | None
    inputs: tuple[str, ...]  # every key or "timeout", in order
    finished: bool  # False: the customer hung up before the end


@dataclass(frozen=True)
class Finish:
    outcome: SurveyOutcome


Step = Say | Ask | Finish

TEXTS = {
    "zh": {
        "intro": "您好，这里是{center}，对您反映的问题进行回访。"
        "您的工单{number}已处理完毕，处理结果：{resolution}。",
        "post_call": "感谢您的来电。",
        "rating": "请您对本次服务进行评价：非常满意请按5，满意请按4，一般请按3，"
        "不满意请按2，非常不满意请按1。",
        "resolved": "如果您的问题仍未解决，请按1；已经解决，请按2。",
        "invalid": "您的输入有误。",
        "thanks": "感谢您的评价，再见。",
        "reopened": "我们已重新受理您的问题，将尽快与您联系，再见。",
    },
    "en": {
        "intro": "Hello, this is {center}, calling about your case {number}. "
        "It has been dealt with: {resolution}.",
        "post_call": "Thank you for calling.",
        "rating": "Please rate our service: press 5 if very satisfied, 4 satisfied, "
        "3 neutral, 2 unsatisfied, 1 very unsatisfied.",
        "resolved": "If your problem is still not solved, press 1. If it is solved, press 2.",
        "invalid": "Sorry, that is not a valid choice.",
        "thanks": "Thank you for your feedback. Goodbye.",
        "reopened": "We have reopened your case and will contact you soon. Goodbye.",
    },
}  # fmt: skip


def spell(number: str) -> str:
    """A ticket number the speech engine reads character by character."""
    return " ".join(number)


@dataclass
class SurveyFlow:
    kind: SurveyKind
    language: str = "zh"
    center: str = ""
    number: str = ""
    resolution: str = ""
    timeout_seconds: float = 8.0
    retries: int = 1
    rating: int | None = None
    resolved: bool | None = None
    inputs: list[str] = field(default_factory=list)
    _question: str = "rating"
    _tries: int = 0
    _done: bool = False

    def _text(self, key: str) -> str:
        texts = TEXTS.get(self.language, TEXTS["zh"])
        return texts[key].format(
            center=self.center, number=spell(self.number), resolution=self.resolution[:200]
        )

    def _ask(self) -> Ask:
        keys = RATING_KEYS if self._question == "rating" else NOT_RESOLVED_KEY + RESOLVED_KEY
        return Ask(self._question, self._text(self._question), keys, self.timeout_seconds)

    def start(self) -> list[Step]:
        opening = "intro" if self.kind is SurveyKind.FOLLOW_UP else "post_call"
        return [Say(opening, self._text(opening), digits=self.number), self._ask()]

    def answer(self, key: str | None) -> list[Step]:
        """The key pressed for the current question (None: no key before the timeout)."""
        if self._done:
            raise RuntimeError("the survey is over")
        self.inputs.append(key or "timeout")
        ask = self._ask()
        if key is None or len(key) != 1 or key not in ask.keys:
            self._tries += 1
            if self._tries <= self.retries:
                steps: list[Step] = [] if key is None else [Say("invalid", self._text("invalid"))]
                return [*steps, ask]
            return self._next()
        if self._question == "rating":
            self.rating = int(key)
        else:
            self.resolved = key == RESOLVED_KEY
        return self._next()

    def _next(self) -> list[Step]:
        self._tries = 0
        if self._question == "rating" and self.kind is SurveyKind.FOLLOW_UP:
            self._question = "resolved"
            return [self._ask()]
        self._done = True
        closing = "reopened" if self.resolved is False else "thanks"
        return [Say(closing, self._text(closing)), Finish(self.outcome())]

    def outcome(self) -> SurveyOutcome:
        return SurveyOutcome(self.rating, self.resolved, tuple(self.inputs), self._done)
