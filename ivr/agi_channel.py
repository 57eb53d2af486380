"""The interpreter's Channel over AGI: prompts, Say* for numbers, keys, UserEvents.

Prompts are sound files rendered by `hotline prompts render` into
<ivr.sounds_dir>/<language>/<prompt>.wav (Hotline's view); Asterisk reads the same
folder as ${HOTLINE_SOUNDS_DIR} (deploy/asterisk/extensions.conf [globals]). A prompt
that was never rendered plays the other language's file, else a beep: the caller still
hears that a key is expected. Run-time text (a notice) is rendered on first use with
espeak-ng (tickets/prompts.PromptRenderer) and cached.

Keys typed during a prompt interrupt it (barge-in): a caller who knows the menu does not
have to listen to it. A key pressed while something is only being said (no question
yet) is kept for the next question.

Every node entered raises UserEvent HotlineIvrStep (Node, Input): the call record keeps
the path so far even if the caller hangs up (cti/tracking/tracker.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from ivr.agi import ALL_KEYS, AgiConnection
from ivr.script import Ask, Date, Digits, Mark, Money, Number, Prompt, Say, Text, Utterance
from tickets.prompts import PromptRenderer

INTER_DIGIT_SECONDS = 4.0  # between the keys of an account or phone number
TRAILING_TERMINATOR_SECONDS = 1.5
FALLBACK_SOUND = "beep"  # a stock Asterisk sound


def user_event_value(text: str) -> str:
    """A UserEvent header value: commas separate UserEvent arguments, newlines end
    AMI headers."""
    return text.replace(",", " ").replace("\r", " ").replace("\n", " ")


class AgiChannel:
    def __init__(
        self,
        agi: AgiConnection,
        *,
        sounds_dir: str | Path,
        asterisk_sounds_dir: str,
        renderer: PromptRenderer | None = None,
    ) -> None:
        self._agi = agi
        self._local = Path(sounds_dir)
        self._remote = asterisk_sounds_dir.rstrip("/")
        self._renderer = renderer
        self._pending = ""  # a key pressed during a Say, for the next Ask

    # -- Channel --------------------------------------------------------------------

    async def say(self, say: Say) -> None:
        if self._pending:
            return  # the caller is already answering: don't talk over them
        for item in say.items:
            key = await self._play(item, say.language)
            if key:
                self._pending = key
                return

    async def ask(self, ask: Ask) -> str:
        digits, self._pending = self._pending, ""
        if not digits:
            for item in ask.items:
                digits = await self._play(item, ask.language)
                if digits:
                    break
        wait = ask.timeout_seconds
        while len(digits) < ask.max_digits:
            if ask.terminator and ask.terminator in digits:
                break
            key = await self._agi.wait_for_digit(wait)
            if not key:
                break
            digits += key
            wait = INTER_DIGIT_SECONDS
        if ask.terminator and ask.terminator in digits and digits != ask.terminator:
            digits = digits.split(ask.terminator, 1)[0]
        elif ask.terminator and len(digits) >= ask.max_digits:
            # A full number typed, then the # the prompt asked for: swallow it, or it
            # would answer the next question ("back").
            key = await self._agi.wait_for_digit(TRAILING_TERMINATOR_SECONDS)
            if key and key != ask.terminator:
                self._pending = key
        return digits

    async def mark(self, mark: Mark) -> None:
        node, entered = user_event_value(mark.node), user_event_value(mark.input)
        await self._agi.exec("UserEvent", f"HotlineIvrStep,Node: {node},Input: {entered}")

    # -- what each utterance sounds like ----------------------------------------------

    async def _play(self, item: Utterance, language: str) -> str:
        agi = self._agi
        if isinstance(item, Prompt):
            return await agi.stream_file(self.prompt_file(item.name, language), ALL_KEYS)
        if isinstance(item, Text):
            rendered = await self._render(item.text, language)
            return await agi.stream_file(rendered, ALL_KEYS) if rendered else ""
        if isinstance(item, Number):
            return await agi.say_number(item.value, ALL_KEYS)
        if isinstance(item, Digits):
            return await agi.say_digits(item.digits, ALL_KEYS) if item.digits else ""
        if isinstance(item, Money):
            return await self._money(item.amount)
        if isinstance(item, Date):
            noon = dt.datetime.combine(item.day, dt.time(12), tzinfo=dt.UTC)
            return await agi.say_date(int(noon.timestamp()), ALL_KEYS)
        raise TypeError(f"cannot say {item!r}")

    async def _money(self, amount: Decimal) -> str:
        # 312.40 -> "three hundred twelve", "point", "four zero"
        cents = int((abs(amount) * 100).to_integral_value())
        yuan = cents // 100 * (-1 if amount < 0 else 1)
        key = await self._agi.say_number(yuan, ALL_KEYS)
        if key or cents % 100 == 0:
            return key
        key = await self._agi.stream_file("letters/dot", ALL_KEYS)
        return key or await self._agi.say_digits(f"{cents % 100:02d}", ALL_KEYS)

    def prompt_file(self, name: str, language: str) -> str:
        """The file Asterisk plays for a prompt (no extension), with fallbacks."""
        for lang in (language, "zh" if language == "en" else "en"):
            if (self._local / lang / f"{name}.wav").exists():
                return f"{self._remote}/{lang}/{name}"
        return FALLBACK_SOUND

    async def _render(self, text: str, language: str) -> str | None:
        if self._renderer is None:
            return None
        name = await self._renderer.render(text, language)
        return f"{self._remote}/{name}" if name else None
