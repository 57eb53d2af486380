"""Runs an interpreter flow on a live channel: the loop every streaming transport shares.

FastAGI and the classic AGI script implement `Channel`; lookups go to a `Directory`
with a deadline (a slow database sends the caller to an agent, see ivr/interpreter.py).
The Twilio front end cannot hold a call open between webhooks and replays instead
(ivr/replay.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from ivr.interpreter import Flow
from ivr.script import LOOKUP_FAILED, Answer, Ask, IvrResult, Lookup, Mark, Query, Reply, Say

log = logging.getLogger("hotline.ivr")


class CallerHungUp(Exception):
    """The caller left: the transport must not send another command."""


@dataclass(frozen=True)
class CallContext:
    call_id: str  # the PBX Linkedid (or Twilio CallSid): what tickets link to
    caller_number: str
    dialed_number: str = ""


class Channel(Protocol):
    async def say(self, say: Say) -> None: ...

    async def ask(self, ask: Ask) -> str:
        """The keys pressed ("" after the timeout with nothing pressed)."""
        ...

    async def mark(self, mark: Mark) -> None: ...


class Directory(Protocol):
    async def answer(self, query: Query, call: CallContext) -> Answer: ...


async def ask_directory(
    directory: Directory, query: Query, call: CallContext, timeout: float
) -> Answer:
    """The directory's answer, or LOOKUP_FAILED when it is slow, down or broken."""
    try:
        # asyncio.timeout, not wait_for: no task per lookup (wait_for makes one on 3.11).
        async with asyncio.timeout(timeout):
            return await directory.answer(query, call)
    except TimeoutError:
        log.warning("ivr lookup %s took over %.1fs: caller goes to an agent", query.kind, timeout)
    except Exception:
        log.exception("ivr lookup %s failed: caller goes to an agent", query.kind)
    return LOOKUP_FAILED


async def drive(
    flow: Flow,
    channel: Channel,
    directory: Directory,
    call: CallContext,
    *,
    lookup_timeout: float,
) -> IvrResult:
    """Plays the flow to the end. CallerHungUp propagates (the flow is closed first)."""
    try:
        instruction = next(flow)
        while True:
            reply: Reply = None
            if isinstance(instruction, Say):
                await channel.say(instruction)
            elif isinstance(instruction, Ask):
                reply = await channel.ask(instruction)
            elif isinstance(instruction, Mark):
                await channel.mark(instruction)
            elif isinstance(instruction, Lookup):
                reply = await ask_directory(directory, instruction.query, call, lookup_timeout)
            instruction = flow.send(reply)
    except StopIteration as stop:
        result: IvrResult = stop.value
        return result
    finally:
        flow.close()
