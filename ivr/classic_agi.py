"""`hotline-agi`: the IVR as a classic AGI script (pyst2), for an Asterisk box that runs
AGI scripts itself instead of reaching Hotline's FastAGI server.

    ; extensions.conf, instead of AGI(agi://host:4573/ivr,...) in [hotline-ivr]:
    same => n,Set(AGISIGHUP=no)
    same => n,AGI(hotline-agi,${HOTLINE_DIALED})

Asterisk starts one process per call and speaks AGI on its stdin/stdout. The script
reads Hotline's configuration (HOTLINE_CONFIG, else ./config.yaml, plus HOTLINE_*
variables), drives the same interpreter as FastAGI and Twilio, answers lookups from the
database (the async DbDirectory on one event loop of this process), and hands the result
over exactly as ivr/fastagi.py does: channel variables HOTLINE_ACTION, HOTLINE_SKILL,
HOTLINE_PRIORITY, HOTLINE_CUSTOMER_ID, HOTLINE_TIER, HOTLINE_LANGUAGE, UserEvent
HotlineIvrStep (Node, Input) per node, HotlineIvrResult at the end, and
HotlineCallbackRequest for a callback. A caller hanging up ends the script quietly
(exit 0); the bridge's call record keeps the path so far.

Prompts play like FastAGI's (ivr/agi_channel.py): ${HOTLINE_SOUNDS_DIR}/<lang>/<prompt>
when the file was rendered (`hotline prompts render`), else the other language's, else a
beep; keys interrupt prompts; numbers, digits, amounts and dates use Asterisk's Say*.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from asterisk.agi import AGI, AGIAppError, AGIHangup, AGIUnknownError

from db.engine import async_session_factory, make_async_engine
from hotline.services import Services
from ivr.directory import DbDirectory
from ivr.driver import CallContext, CallerHungUp, ask_directory
from ivr.handover import dialplan_variables, user_events
from ivr.interpreter import Interpreter
from ivr.prompt_cache import PromptRenderer
from ivr.script import (
    Answer,
    Ask,
    Date,
    Digits,
    IvrResult,
    Lookup,
    Mark,
    Money,
    Number,
    Prompt,
    Query,
    Reply,
    Say,
    Text,
    Utterance,
)
from kernel.bus.factory import make_bus
from kernel.config import load_settings
from kernel.config.settings import Settings

log = logging.getLogger("hotline.ivr.classic")
KEYS = "0123456789*#"
INTER_DIGIT_MS = 4000
FALLBACK_SOUND = "beep"
DEFAULT_SOUNDS = "/var/lib/asterisk/sounds/hotline"


def _value(text: str) -> str:
    """A UserEvent value: commas separate its arguments, newlines end AMI headers."""
    return text.replace(",", " ").replace("\r", " ").replace("\n", " ")


class ClassicChannel:
    """The interpreter's channel over pyst2 (synchronous, one call per process)."""

    def __init__(
        self,
        agi: Any,
        settings: Settings,
        sounds: str,
        render: Callable[[str, str], str | None],
    ) -> None:
        self.agi = agi
        self._local = Path(settings.ivr.sounds_dir)
        self._remote = sounds.rstrip("/")
        self._render = render
        self._language = ""
        self._pending = ""  # a key pressed while something was only said

    def cmd(self, fn: Callable[..., Any], *args: Any) -> str:
        """One AGI command (its result as text: a key, a value, ""); CallerHungUp when the
        caller has gone."""
        try:
            result = fn(*args)
            return "" if result is None else str(result)
        except AGIHangup as exc:
            raise CallerHungUp(str(exc)) from exc
        except AGIUnknownError as exc:  # 511 dead channel, or EOF (code 0)
            raise CallerHungUp(str(exc)) from exc
        except AGIAppError:
            # result=-1: a sound that would not play, or a hangup; ask the channel.
            try:
                self.agi.execute("CHANNEL STATUS")
            except (AGIHangup, AGIUnknownError, AGIAppError) as exc:
                raise CallerHungUp(str(exc)) from exc
            log.warning("AGI %s%r failed on a live channel", getattr(fn, "__name__", fn), args)
            return ""  # no key pressed

    def _set_language(self, language: str) -> None:
        if language != self._language:
            self.cmd(self.agi.set_variable, "CHANNEL(language)", language)
            self._language = language

    # -- Channel -----------------------------------------------------------------------

    def say(self, say: Say) -> None:
        if self._pending:
            return  # the caller is already answering: don't talk over them
        self._set_language(say.language)
        for item in say.items:
            key = self._play(item, say.language)
            if key:
                self._pending = key
                return

    def ask(self, ask: Ask) -> str:
        self._set_language(ask.language)
        digits, self._pending = self._pending, ""
        if not digits:
            for item in ask.items:
                digits = self._play(item, ask.language)
                if digits:
                    break
        wait = int(ask.timeout_seconds * 1000)
        while len(digits) < ask.max_digits:
            if ask.terminator and ask.terminator in digits:
                break
            key = self.cmd(self.agi.wait_for_digit, wait)
            if not key:
                break
            digits += key
            wait = INTER_DIGIT_MS
        if ask.terminator and ask.terminator in digits and digits != ask.terminator:
            digits = digits.split(ask.terminator, 1)[0]
        return digits

    def mark(self, mark: Mark) -> None:
        self.user_event("HotlineIvrStep", {"Node": mark.node, "Input": mark.input})

    def user_event(self, name: str, fields: dict[str, str]) -> None:
        body = ",".join([name, *(f"{k}: {_value(v)}" for k, v in fields.items())])
        self.cmd(self.agi.appexec, "UserEvent", body)

    # -- sounds ------------------------------------------------------------------------

    def _play(self, item: Utterance, language: str) -> str:
        agi = self.agi
        if isinstance(item, Prompt):
            return self.cmd(agi.stream_file, self.prompt_file(item.name, language), KEYS)
        if isinstance(item, Text):
            name = self._render(item.text, language)
            return self.cmd(agi.stream_file, f"{self._remote}/{name}", KEYS) if name else ""
        if isinstance(item, Number):
            return self.cmd(agi.say_number, item.value, KEYS)
        if isinstance(item, Digits):
            return self.cmd(agi.say_digits, item.digits, KEYS) if item.digits else ""
        if isinstance(item, Money):
            return self._money(item.amount)
        if isinstance(item, Date):
            noon = dt.datetime.combine(item.day, dt.time(12), tzinfo=dt.UTC)
            return self.cmd(agi.say_date, int(noon.timestamp()), KEYS)
        raise TypeError(f"cannot say {item!r}")

    def _money(self, amount: Decimal) -> str:
        # 312.40 -> "three hundred twelve", "point", "four zero" (as ivr/agi_channel.py)
        cents = int((abs(amount) * 100).to_integral_value())
        yuan = cents // 100 * (-1 if amount < 0 else 1)
        key = self.cmd(self.agi.say_number, yuan, KEYS)
        if key or cents % 100 == 0:
            return key
        key = self.cmd(self.agi.stream_file, "letters/dot", KEYS)
        return key or self.cmd(self.agi.say_digits, f"{cents % 100:02d}", KEYS)

    def prompt_file(self, name: str, language: str) -> str:
        for lang in (language, "zh" if language == "en" else "en"):
            if (self._local / lang / f"{name}.wav").exists():
                return f"{self._remote}/{lang}/{name}"
        return FALLBACK_SOUND


def run_flow(flow: Any, channel: ClassicChannel, lookup: Callable[[Query], Answer]) -> IvrResult:
    """The driver loop of ivr/driver.py, synchronous. CallerHungUp propagates."""
    try:
        instruction = next(flow)
        while True:
            reply: Reply = None
            if isinstance(instruction, Say):
                channel.say(instruction)
            elif isinstance(instruction, Ask):
                reply = channel.ask(instruction)
            elif isinstance(instruction, Mark):
                channel.mark(instruction)
            elif isinstance(instruction, Lookup):
                reply = lookup(instruction.query)
            instruction = flow.send(reply)
    except StopIteration as stop:
        result: IvrResult = stop.value
        return result
    finally:
        flow.close()


def hand_over(channel: ClassicChannel, settings: Settings, result: IvrResult) -> None:
    """The result to the dialplan and the bridge (ivr/handover.py), a command at a time."""
    for name, value in dialplan_variables(result).items():
        channel.cmd(channel.agi.set_variable, name, value)
    for event, fields in user_events(result, settings.pbx.dialplan.holding_queue_prefix):
        channel.user_event(event, fields)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with open(os.devnull, "w") as quiet:  # pyst2 traces every command on stderr
        try:
            agi = AGI(stdin=sys.stdin, stdout=sys.stdout, stderr=quiet)
        except (AGIHangup, AGIUnknownError, OSError):
            return 0
        return _serve(agi)


def _serve(agi: Any) -> int:
    settings = load_settings()
    loop = asyncio.new_event_loop()
    engine = make_async_engine(settings.database.url)
    services = Services(
        settings=settings,
        bus=make_bus(settings.redis.url),
        engine=engine,
        sessions=async_session_factory(engine),
    )
    directory = DbDirectory(services)
    renderer = PromptRenderer(settings.ivr.sounds_dir)

    def render(text: str, language: str) -> str | None:
        return loop.run_until_complete(renderer.render(text, language))

    try:
        channel = ClassicChannel(agi, settings, DEFAULT_SOUNDS, render)
        sounds = channel.cmd(agi.get_variable, "HOTLINE_SOUNDS_DIR") or DEFAULT_SOUNDS
        channel = ClassicChannel(agi, settings, sounds, render)
        linkedid = channel.cmd(agi.get_variable, "CHANNEL(linkedid)") or agi.env.get(
            "agi_uniqueid", ""
        )
        dialed = agi.env.get("agi_arg_1") or agi.env.get("agi_dnid", "")
        caller = agi.env.get("agi_callerid", "")
        call = CallContext(call_id=linkedid, caller_number=caller, dialed_number=dialed)
        timeout = settings.ivr.lookup_timeout_seconds

        def lookup(query: Query) -> Answer:
            return loop.run_until_complete(ask_directory(directory, query, call, timeout))

        result = run_flow(Interpreter(settings).run(caller), channel, lookup)
        hand_over(channel, settings, result)
    except CallerHungUp:
        log.debug("caller hung up")
    finally:
        loop.run_until_complete(services.bus.close())
        loop.run_until_complete(engine.dispose())
        loop.close()
    return 0
