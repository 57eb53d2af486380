"""The interpreter's Channel over AGI: prompts, Say* for numbers, keys, UserEvents.

Prompts are sound files rendered by `hotline prompts render` into
<ivr.sounds_dir>/<language>/<prompt>.wav (Hotline's view); Asterisk reads the same
folder as ${HOTLINE_SOUNDS_DIR} (deploy/asterisk/extensions.conf [globals]). A prompt
that was never rendered plays the other language's file, else a beep: the caller still
hears that a key is expected. Run-time text (a notice) is rendered on first use with
espeak-ng (ivr/prompt_cache.PromptRenderer) and cached.

Keys typed during a prompt interrupt it (barge-in): a caller who knows the menu does not
have to listen to it. A key pressed while something is only being said (no question
yet) is kept for the next question. A question is GET DATA: Asterisk plays its prompt
and collects the keys itself (ast_app_getdata_full; # ends an entry), so none is lost
between two AGI commands. CHANNEL(language) follows the call's language, so SAY NUMBER
and friends speak Chinese (digits/* rendered into sounds/zh, ivr/prompts.py).

Every node entered raises UserEvent HotlineIvrStep (Node, Input): the call record keeps
the path so far even if the caller hangs up (cti/tracking/tracker.py).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal
from pathlib import Path

from ivr.agi import ALL_KEYS, AgiConnection
from ivr.handover import user_event_value
from ivr.prompt_cache import PromptRenderer
from ivr.script import Ask, Date, Digits, Mark, Money, Number, Prompt, Say, Text, Utterance

FALLBACK_SOUND = "beep"  # a stock Asterisk sound
TRAILING_TERMINATOR_SECONDS = 1.5  # for the # after a full-length account number


class RenderedFiles:
    """Which prompt files exist, re-checked every `ttl` seconds: a stat per prompt per
    call would be blocking I/O on the event loop; `hotline prompts render` adding files
    while Hotline runs is seen within the ttl."""

    def __init__(self, ttl: float = 30.0) -> None:
        self._ttl = ttl
        self._seen: dict[str, tuple[bool, float]] = {}
        # (local dir, Asterisk's dir, prompt, language) -> the file Asterisk plays
        self._files: dict[tuple[str, str, str, str], tuple[str, float]] = {}

    def prompt_file(self, local: str, remote: str, name: str, language: str) -> str:
        """AgiChannel.prompt_file's answer, kept as long as the existence checks: a
        prompt is looked up a few times per call, every call."""
        key = (local, remote, name, language)
        now = time.monotonic()
        known = self._files.get(key)
        if known is not None and now - known[1] < self._ttl:
            return known[0]
        found = FALLBACK_SOUND
        for lang in (language, "zh" if language == "en" else "en"):
            if self.exists(f"{local}/{lang}/{name}.wav"):
                found = f"{remote}/{lang}/{name}"
                break
        self._files[key] = (found, now)
        return found

    def exists(self, path: str) -> bool:
        now = time.monotonic()
        known = self._seen.get(path)
        if known is not None and now - known[1] < self._ttl:
            return known[0]
        found = os.path.exists(path)
        self._seen[path] = (found, now)
        return found


class AgiChannel:
    def __init__(
        self,
        agi: AgiConnection,
        *,
        sounds_dir: str | Path,
        asterisk_sounds_dir: str,
        renderer: PromptRenderer | None = None,
        found: RenderedFiles | None = None,
    ) -> None:
        self._agi = agi
        self._local_dir = str(Path(sounds_dir))
        self._remote = asterisk_sounds_dir.rstrip("/")
        self._renderer = renderer
        self._found = found or RenderedFiles()
        self._pending = ""  # a key pressed during a Say, for the next Ask
        self.language = ""  # CHANNEL(language) as last set by us

    # -- Channel --------------------------------------------------------------------

    async def say(self, say: Say) -> None:
        if self._pending:
            return  # the caller is already answering: don't talk over them
        await self._speak(say.language)
        for item in say.items:
            key = await self._play(item, say.language)
            if key:
                self._pending = key
                return

    async def ask(self, ask: Ask) -> str:
        """All items but the last are played with STREAM FILE (a key interrupts them);
        the last one is GET DATA's own prompt, so the keys are collected by Asterisk in
        one command: no key falls between two commands (res_agi drops DTMF while it
        waits for the next command)."""
        digits, self._pending = self._pending, ""
        await self._speak(ask.language)
        items = list(ask.items)
        tail = items[-1] if items else None
        last = tail if isinstance(tail, Prompt) else None
        if last is not None:
            items.pop()
        if not digits:
            for item in items:
                digits = await self._play(item, ask.language)
                if digits:
                    break
        if len(digits) < ask.max_digits and not (ask.terminator and ask.terminator in digits):
            prompt = self.prompt_file(last.name, ask.language) if last and not digits else ""
            more, timed_out = await self._agi.get_data(
                prompt, ask.timeout_seconds, ask.max_digits - len(digits)
            )
            if not more and not timed_out and not digits:
                return "#"  # GET DATA ends on #: a lone # is the "back" key
            digits += more
            if ask.terminator and len(digits) >= ask.max_digits and not timed_out:
                # A full-length number, then the # the prompt asked for: swallow it, or
                # it would answer the next question ("back"). Another key is kept.
                key = await self._agi.wait_for_digit(TRAILING_TERMINATOR_SECONDS)
                if key and key != ask.terminator:
                    self._pending = key
        if ask.terminator and ask.terminator in digits and digits != ask.terminator:
            digits = digits.split(ask.terminator, 1)[0]
        return digits[: ask.max_digits]

    async def _speak(self, language: str) -> None:
        """CHANNEL(language) picks the words SAY NUMBER / DIGITS / DATE use (Chinese
        ones are rendered into sounds/zh by `hotline prompts render`)."""
        if language != self.language:
            await self._agi.set_variable("CHANNEL(language)", language)
            self.language = language

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
        # -312.40 -> "minus", "three hundred twelve", "point", "four zero"
        cents = int((abs(amount) * 100).to_integral_value())
        key = ""
        if amount < 0:
            key = await self._agi.stream_file("digits/minus", ALL_KEYS)
            if key:
                return key
        key = await self._agi.say_number(cents // 100, ALL_KEYS)
        if key or cents % 100 == 0:
            return key
        key = await self._agi.stream_file("letters/dot", ALL_KEYS)
        return key or await self._agi.say_digits(f"{cents % 100:02d}", ALL_KEYS)

    def prompt_file(self, name: str, language: str) -> str:
        """The file Asterisk plays for a prompt (no extension), with fallbacks: the
        call's language, the other one, else a beep."""
        return self._found.prompt_file(self._local_dir, self._remote, name, language)

    async def _render(self, text: str, language: str) -> str | None:
        if self._renderer is None:
            return None
        name = await self._renderer.render(text, language)
        return f"{self._remote}/{name}" if name else None
