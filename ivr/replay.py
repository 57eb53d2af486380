"""Resuming an IVR call one webhook at a time by replaying its recorded replies.

The interpreter (ivr/interpreter.py) is a deterministic generator: given the same caller
and the same replies (keys typed, lookup answers) it yields the same instructions. A
front end that cannot hold the call open between requests (Twilio) keeps, per call, the
list of replies so far (`CallRecord.replies`) and, on the next request, runs a fresh
flow, feeding it those replies, up to the question that is waiting for an answer:

    record.replies == ["1", <CustomerInfo>]          # key 1, then the customer lookup
    step = await advance(flow, record.replies, "", lookup)   # "" = the caller was silent
    step.said / step.marks / step.ask / step.result  # what is new since the last request

Lookups are answered once (by the directory, in the request that reaches them) and
their answers recorded, so a replay never asks the database again and always takes the
same path. Records live in memory (one process) or in Redis (several workers, when
settings.redis.url is set) as JSON, and expire an hour after their last change.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ivr.interpreter import Flow
from ivr.script import (
    LOOKUP_FAILED,
    Ask,
    CustomerInfo,
    IvrResult,
    Lookup,
    Mark,
    NoticeInfo,
    Query,
    Reply,
    Say,
    TicketInfo,
)

TTL_SECONDS = 3600
LookupFn = Callable[[Query], Awaitable[Reply]]

# -- replies as JSON -------------------------------------------------------------------


def encode_reply(reply: Reply) -> Any:
    """A reply as plain JSON ({"t": kind, ...}); decode_reply restores it exactly."""
    if reply is None or isinstance(reply, bool | str):
        return reply
    if reply is LOOKUP_FAILED:
        return {"t": "failed"}
    if isinstance(reply, CustomerInfo):
        data = asdict(reply)
        for k in ("balance", "arrears", "last_payment_amount"):
            data[k] = None if data[k] is None else str(data[k])
        day = reply.last_payment_on
        data["last_payment_on"] = day.isoformat() if day else None
        return {"t": "customer", **data}
    if isinstance(reply, TicketInfo):
        return {"t": "ticket", "id": reply.id, "number": reply.number}
    if isinstance(reply, tuple):
        return {"t": "notices", "items": [[n.title, n.body] for n in reply]}
    raise TypeError(f"cannot record reply {reply!r}")


def decode_reply(data: Any) -> Reply:
    if data is None or isinstance(data, bool | str):
        return data
    kind = data["t"]
    if kind == "failed":
        return LOOKUP_FAILED
    if kind == "ticket":
        return TicketInfo(id=int(data["id"]), number=str(data["number"]))
    if kind == "notices":
        return tuple(NoticeInfo(title=t, body=b) for t, b in data["items"])
    if kind == "customer":
        values = {k: v for k, v in data.items() if k != "t"}
        for k in ("balance", "arrears", "last_payment_amount"):
            values[k] = None if values[k] is None else Decimal(values[k])
        day = values["last_payment_on"]
        values["last_payment_on"] = dt.date.fromisoformat(day) if day else None
        return CustomerInfo(**values)
    raise ValueError(f"unknown recorded reply {data!r}")


# -- what is kept per call ---------------------------------------------------------------


@dataclass
class CallRecord:
    call_id: str  # Twilio's CallSid
    caller_number: str
    dialed_number: str
    started_at: float  # epoch seconds
    replies: list[Reply] = field(default_factory=list)
    seq: int = 0  # of the last domain event published for the call (cti/events.py)
    queue: str = ""  # where the IVR sent the caller (TwiML Enqueue)
    ivr_ended_at: float | None = None  # when the IVR reached its result
    queued_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    # Offers to Hotline's agents through Twilio (ivr/twilio/agents.py, agent leg callbacks).
    offered_at: float | None = None
    offers: int = 0
    no_answers: int = 0
    agents: list[str] = field(default_factory=list)  # extensions that answered, in order
    agent_legs: dict[str, str] = field(default_factory=dict)  # leg CallSid -> last status

    def to_json(self) -> str:
        data = asdict(self)
        data["replies"] = [encode_reply(r) for r in self.replies]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> CallRecord:
        data = json.loads(text)
        data["replies"] = [decode_reply(r) for r in data["replies"]]
        return cls(**data)


class ReplayStore(Protocol):
    async def load(self, call_id: str) -> CallRecord | None: ...

    async def save(self, record: CallRecord) -> None:
        """Keep the record for TTL_SECONDS more."""
        ...

    def lock(self, call_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """One request per call at a time (a status callback can race a step)."""
        ...

    async def close(self) -> None: ...


class MemoryReplayStore:
    def __init__(self, ttl: float = TTL_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._now = now
        self._records: dict[str, tuple[float, str]] = {}  # call_id -> (expires, json)
        self._locks: dict[str, asyncio.Lock] = {}

    async def load(self, call_id: str) -> CallRecord | None:
        found = self._records.get(call_id)
        if found is None or found[0] < self._now():
            self._records.pop(call_id, None)
            return None
        return CallRecord.from_json(found[1])  # a copy: callers may change theirs

    async def save(self, record: CallRecord) -> None:
        now = self._now()
        self._records[record.call_id] = (now + self._ttl, record.to_json())
        for call_id in [k for k, (exp, _) in self._records.items() if exp < now]:
            del self._records[call_id]
            self._locks.pop(call_id, None)

    @contextlib.asynccontextmanager
    async def lock(self, call_id: str) -> AsyncIterator[None]:
        async with self._locks.setdefault(call_id, asyncio.Lock()):
            yield

    async def close(self) -> None:
        self._records.clear()


class RedisReplayStore:
    """Records shared by every worker: key hotline:ivr:replay:<CallSid>, JSON, EX 1 h."""

    PREFIX = "hotline:ivr:replay:"

    def __init__(self, url: str, ttl: int = TTL_SECONDS) -> None:
        import redis.asyncio as aioredis

        self._ttl = ttl
        self._redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=5)

    async def load(self, call_id: str) -> CallRecord | None:
        raw = await self._redis.get(self.PREFIX + call_id)
        return CallRecord.from_json(raw) if raw is not None else None

    async def save(self, record: CallRecord) -> None:
        await self._redis.set(self.PREFIX + record.call_id, record.to_json(), ex=self._ttl)

    @contextlib.asynccontextmanager
    async def lock(self, call_id: str) -> AsyncIterator[None]:
        # Expires by itself if a worker dies holding it; a webhook step takes milliseconds.
        async with self._redis.lock(
            f"{self.PREFIX}lock:{call_id}", timeout=15, blocking_timeout=10
        ):
            yield

    async def close(self) -> None:
        await self._redis.aclose()


# -- the replay --------------------------------------------------------------------------


@dataclass
class Step:
    """What a request adds to the call: the part of the flow after the recorded replies."""

    said: list[Say] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)  # nodes entered in this request
    path: list[str] = field(default_factory=list)  # every node entered, replay included
    ask: Ask | None = None  # the question now waiting for the caller
    result: IvrResult | None = None  # the IVR ended (in this request or before)
    answered: bool = False  # `answer` was taken as the reply to the waiting question


async def advance(
    flow: Flow, replies: list[Reply], answer: str | None, lookup: LookupFn | None
) -> Step:
    """Replay `replies` into `flow`, then give `answer` (keys, "" = silence; None = no
    new input) to the waiting question and run on to the next question or the end.
    New replies (the answer, lookup answers) are appended to `replies`. Without `lookup`
    (a status callback) the replay stops where the database would be asked."""
    step, used = Step(), 0
    fresh = not replies and answer is None  # the call's first request: all is new
    try:
        instruction = next(flow)
        while True:
            reply: Reply = None
            if isinstance(instruction, Mark):
                step.path.append(instruction.node)
                if fresh:
                    step.marks.append(instruction)
            elif isinstance(instruction, Say):
                if fresh:
                    step.said.append(instruction)
            elif used < len(replies):
                reply, used = replies[used], used + 1
            elif isinstance(instruction, Lookup):
                if lookup is None:
                    break
                reply = await lookup(instruction.query)
                replies.append(reply)
                used += 1
            else:  # the question nobody has answered yet
                if fresh or answer is None:
                    step.ask = instruction
                    break
                reply, fresh, step.answered = answer, True, True
                replies.append(reply)
                used += 1
            instruction = flow.send(reply)
    except StopIteration as stop:
        step.result = stop.value
    finally:
        flow.close()
    return step
