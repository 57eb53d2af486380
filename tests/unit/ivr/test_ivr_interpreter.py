"""The IVR interpreter on config.yaml's menu: key sequences -> path, outcome, skill,
priority, tickets and callbacks (tests/ivr_scenarios.py), with a fake directory."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ivr.interpreter import Interpreter
from ivr.script import (
    LOOKUP_FAILED,
    Answer,
    Ask,
    IvrResult,
    Lookup,
    Mark,
    Money,
    Prompt,
    Query,
    QueryKind,
    Say,
    TicketInfo,
)
from kernel.config import load_settings
from kernel.config.settings import Settings
from tests.ivr_scenarios import LI, SCENARIOS, ZHANG, ZHANG_PHONE, Scenario


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings("config.yaml", env={})


@dataclass
class FakeDirectory:
    open: bool = True
    down: set[QueryKind] = field(default_factory=set)
    tickets: list[dict[str, str]] = field(default_factory=list)

    def answer(self, q: Query) -> Answer:
        if q.kind in self.down:
            return LOOKUP_FAILED
        if q.kind is QueryKind.CUSTOMER_BY_PHONE:
            return ZHANG if q.arg("number") == ZHANG_PHONE else None
        if q.kind is QueryKind.CUSTOMER_BY_ACCOUNT:
            return {c.account_number: c for c in (ZHANG, LI)}.get(q.arg("account"))
        if q.kind is QueryKind.NOTICES:
            return ()
        if q.kind is QueryKind.FAULT_TICKET:
            self.tickets.append(dict(q.args))
            return TicketInfo(id=len(self.tickets), number=f"GD20261123-000{len(self.tickets)}")
        return self.open


@dataclass
class Run:
    result: IvrResult | None = None  # None when the caller hung up
    marks: list[str] = field(default_factory=list)
    said: list[object] = field(default_factory=list)
    asks: list[Ask] = field(default_factory=list)


def walk(settings: Settings, caller: str, keys: tuple[str, ...], d: FakeDirectory) -> Run:
    flow, run, left = Interpreter(settings).run(caller), Run(), list(keys)
    instruction = next(flow)
    try:
        while True:
            reply: object = None
            if isinstance(instruction, Mark):
                run.marks.append(instruction.node)
            elif isinstance(instruction, Say):
                run.said.extend(instruction.items)
            elif isinstance(instruction, Ask):
                run.asks.append(instruction)
                if not left:  # the caller hangs up instead of answering
                    flow.close()
                    return run
                reply = left.pop(0)
            elif isinstance(instruction, Lookup):
                reply = d.answer(instruction.query)
            instruction = flow.send(reply)  # type: ignore[arg-type]
    except StopIteration as stop:
        run.result = stop.value
        return run


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.name)
def test_scenario(settings: Settings, case: Scenario) -> None:
    d = FakeDirectory()
    run = walk(settings, case.caller, case.keys, d)
    assert tuple(run.marks) == case.path
    if case.outcome is None:
        assert run.result is None
        return
    r = run.result
    assert r is not None
    assert r.outcome == case.outcome
    assert r.path == case.path
    if case.skill:
        assert (r.skill, r.priority) == (case.skill, case.priority)
    assert r.customer_id == case.customer_id
    for k, v in case.facts.items():
        assert r.fact(k) == v, k
    assert [t["priority"] for t in d.tickets] == (
        [case.ticket_priority] if case.ticket_priority else []
    )
    assert r.callback_number == case.callback_number
    assert r.action == ("queue" if case.outcome == "queue" else "hangup")


def test_balance_is_said_with_amounts_in_the_customers_language(settings: Settings) -> None:
    run = walk(settings, "13700000000", ("1", "310000654321", ""), FakeDirectory())
    assert Money(LI.balance) in run.said
    assert Prompt("no_arrears") in run.said
    assert run.asks[-1].language == "en"  # Ms Li prefers English
    assert run.asks[1].terminator == "#"
    assert run.asks[1].max_digits == 12


def test_unknown_account_is_retried_then_the_billing_desk_takes_the_call(
    settings: Settings,
) -> None:
    run = walk(settings, "13700000000", ("1", "999", "", "888"), FakeDirectory())
    assert run.asks[2].items == (Prompt("account_unknown"), Prompt("enter_account"))
    assert run.asks[3].items == (Prompt("enter_account"),)  # silence: just asked again
    r = run.result
    assert r is not None
    assert r.skill == "billing"
    assert r.fact("identified") == "no"


def test_database_down_sends_the_caller_to_an_agent_with_default_priority(
    settings: Settings,
) -> None:
    d = FakeDirectory(down={QueryKind.CUSTOMER_BY_PHONE})
    run = walk(settings, ZHANG_PHONE, (), d)
    r = run.result
    assert r is not None
    assert (r.outcome, r.skill, r.priority) == ("queue", "general", 0)
    assert r.fact("lookup_failed") == "customer_by_phone"


def test_gas_leak_reaches_the_crew_even_when_the_ticket_cannot_be_written(
    settings: Settings,
) -> None:
    d = FakeDirectory(down={QueryKind.FAULT_TICKET})
    r = walk(settings, ZHANG_PHONE, ("2", "1"), d).result
    assert r is not None
    assert (r.skill, r.priority) == ("emergency", 1000)


def test_after_hours_a_leak_is_still_taken(settings: Settings) -> None:
    run = walk(settings, ZHANG_PHONE, ("1", "1"), FakeDirectory(open=False))
    assert run.marks[:3] == ["start", "hours", "closed"]
    r = run.result
    assert r is not None
    assert r.skill == "emergency"


def test_same_inputs_same_instructions(settings: Settings) -> None:
    a = walk(settings, ZHANG_PHONE, ("*", "3", "#", "1", "1"), FakeDirectory())
    b = walk(settings, ZHANG_PHONE, ("*", "3", "#", "1", "1"), FakeDirectory())
    assert (a.marks, a.said, a.asks, a.result) == (b.marks, b.said, b.asks, b.result)


def test_facts_text_is_safe_for_a_user_event() -> None:
    from ivr.script import Outcome

    r = IvrResult(Outcome.QUEUE, "general", 0, "zh", None, None, (), (("fault", "漏气,急;"),))
    assert r.facts_text() == "fault=漏气 急 "
