"""Replaying an IVR call one request at a time (ivr/replay.py): the same scenarios as the
interpreter's, walked as a webhook front end walks them, give the same paths and results;
recorded replies survive JSON; the stores keep records for an hour."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ivr.interpreter import Interpreter
from ivr.replay import CallRecord, MemoryReplayStore, Step, advance, decode_reply, encode_reply
from ivr.script import LOOKUP_FAILED, NoticeInfo, Query, Reply, TicketInfo
from kernel.config import load_settings
from kernel.config.settings import Settings
from tests.ivr_scenarios import LI, SCENARIOS, ZHANG, Scenario
from tests.unit.ivr.test_ivr_interpreter import FakeDirectory


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings("config.yaml", env={})


class Lookups:
    def __init__(self, d: FakeDirectory) -> None:
        self.d, self.asked = d, 0

    async def __call__(self, q: Query) -> Reply:
        self.asked += 1
        return self.d.answer(q)


async def walk(
    settings: Settings, caller: str, keys: tuple[str, ...], d: FakeDirectory
) -> tuple[list[Step], CallRecord]:
    """One request per question, each from a fresh interpreter fed the JSON-stored record."""
    interpreter, lookups = Interpreter(settings), Lookups(d)
    record = CallRecord("CA1", caller, "95777", 0.0)
    steps = [await advance(interpreter.run(caller), record.replies, None, lookups)]
    for key in keys:
        if steps[-1].ask is None:
            break
        record = CallRecord.from_json(record.to_json())  # as a store keeps it
        asked = lookups.asked
        steps.append(await advance(interpreter.run(caller), record.replies, key, lookups))
        assert steps[-1].answered
        # A replay never asks the directory again for what it answered before.
        assert lookups.asked - asked <= 2
    return steps, record


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.name)
async def test_scenario_one_request_per_step(settings: Settings, case: Scenario) -> None:
    d = FakeDirectory()
    steps, record = await walk(settings, case.caller, case.keys, d)
    path = [m.node for s in steps for m in s.marks]
    assert tuple(path) == case.path
    last = steps[-1]
    assert last.path == path
    if case.outcome is None:
        assert last.result is None
        assert last.ask is not None  # the caller hung up on this question
        return
    r = last.result
    assert r is not None
    assert (r.outcome, r.customer_id) == (case.outcome, case.customer_id)
    if case.skill:
        assert (r.skill, r.priority) == (case.skill, case.priority)
    for k, v in case.facts.items():
        assert r.fact(k) == v, k
    tickets = [t["priority"] for t in d.tickets]
    assert tickets == ([case.ticket_priority] if case.ticket_priority else [])
    # Replaying the whole record (a status callback) finds the same end, asks nothing.
    again = await advance(Interpreter(settings).run(case.caller), record.replies, None, None)
    assert again.result == r
    assert (again.marks, again.said) == ([], [])


async def test_a_replay_only_speaks_what_is_new(settings: Settings) -> None:
    steps, _ = await walk(settings, "13700000000", ("1", "310000654321"), FakeDirectory())
    first, second, third = steps
    assert [m.node for m in first.marks] == ["start", "hours", "greet", "main"]
    assert first.said
    assert first.ask is not None
    assert first.ask.max_digits == 1
    assert [m.node for m in second.marks] == ["billing"]
    assert second.said == []  # the welcome is not said again
    assert second.ask is not None
    assert second.ask.terminator == "#"
    assert [m.node for m in third.marks] == ["billing_after"]
    assert third.said[0].language == "en"  # Ms Li prefers English


async def test_no_new_input_repeats_the_waiting_question(settings: Settings) -> None:
    steps, record = await walk(settings, "13700000000", ("1",), FakeDirectory())
    n = len(record.replies)
    again = await advance(Interpreter(settings).run("13700000000"), record.replies, None, None)
    assert again.ask == steps[-1].ask
    assert not again.answered
    assert len(record.replies) == n


async def test_a_status_replay_stops_where_the_database_would_be_asked(
    settings: Settings,
) -> None:
    step = await advance(Interpreter(settings).run("13912345678"), [], "", None)
    assert (step.path, step.result, step.ask) == (["start"], None, None)


def test_replies_survive_json() -> None:
    replies: list[Reply] = [
        "1",
        "",
        None,
        True,
        False,
        ZHANG,
        LI,
        LOOKUP_FAILED,
        TicketInfo(7, "GD20261123-0007"),
        (NoticeInfo("停气通知", "滨江区 11月24日 9:00-17:00"), NoticeInfo("t", "")),
        (),
    ]
    record = CallRecord("CA1", "139", "95777", 1.5, replies=replies, seq=3)
    back = CallRecord.from_json(record.to_json())
    assert back == record
    assert back.replies[7] is LOOKUP_FAILED
    assert isinstance(back.replies[5], type(ZHANG))
    assert back.replies[5].balance == Decimal("-312.40")
    assert back.replies[5].last_payment_on == dt.date(2026, 10, 8)
    assert decode_reply(encode_reply(LI)) == LI


async def test_memory_store_expires_records() -> None:
    clock = [100.0]
    store = MemoryReplayStore(ttl=3600, now=lambda: clock[0])
    await store.save(CallRecord("CA1", "139", "95777", 0.0, replies=["1"]))
    found = await store.load("CA1")
    assert found is not None
    assert found.replies == ["1"]
    found.replies.append("2")  # a copy: the stored record changes only by save()
    again = await store.load("CA1")
    assert again is not None
    assert again.replies == ["1"]
    async with store.lock("CA1"):
        pass
    clock[0] += 3599
    assert await store.load("CA1") is not None
    clock[0] += 2
    assert await store.load("CA1") is None
