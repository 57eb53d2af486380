"""Today's ended calls, packed (supervisor/ended_calls.py), and the live view that keeps
them (supervisor/live_calls.py DayCalls): the same entry comes back, it costs a fraction
of a CallEntry, and the day's totals and handled counts are what folding every call's
final state gives, whatever the order of ends, corrections and wrap-ups."""

from __future__ import annotations

import datetime as dt
import sys
import tracemalloc
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.metrics import Aggregates, CallFacts, Thresholds, call_aggregates
from supervisor.call_entry import CallEntry
from supervisor.ended_calls import EndedCalls
from supervisor.live_calls import DayCalls

DAY = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
T0 = DAY.timestamp() + 8 * 3600


def ended_entry(n: int, **over: object) -> CallEntry:
    started = DAY + dt.timedelta(hours=8, seconds=n, microseconds=n % 1_000_000)
    facts = CallFacts(
        started_at=started,
        queue="billing" if n % 3 else None,
        queued=True,
        answered=n % 2 == 0,
        disposition="answered" if n % 2 == 0 else "abandoned",
        wait_seconds=n / 7,
        talk_seconds=12.25,
        hold_seconds=0.0,
        wrap_seconds=3.5,
        transfers=n % 4,
        first_contact_resolution=(None, True, False)[n % 3],
    )
    entry = CallEntry(
        linkedid=f"1764921600.{n}",
        seq=n + 5,
        facts=facts,
        ended=True,
        queued_at=started + dt.timedelta(seconds=2),
        answered_at=started + dt.timedelta(seconds=9) if n % 2 == 0 else None,
        ended_at=started + dt.timedelta(seconds=40),
        caller_number="13800138000",
        agents=["1001", "1002"] if n % 2 == 0 else [],
        node="na",
    )
    for key, value in over.items():
        setattr(entry, key, value)
    return entry


def test_an_ended_call_comes_back_as_it_went_in() -> None:
    store = EndedCalls()
    shanghai = ZoneInfo("Asia/Shanghai")
    entries = [ended_entry(n) for n in range(6)]
    entries.append(
        ended_entry(
            7,
            caller_number="张三 (010) 6123",  # a caller number is whatever the trunk sends
            node=None,
            queued_at=None,
            lost=True,
            confirmed=False,
            agents=["1003", "1001", "1003"],
        )
    )
    entries[0].facts = CallFacts(
        started_at=dt.datetime(2026, 12, 5, 16, 0, 0, 123457, tzinfo=shanghai),
        queue="燃气抢修",
        queued=False,
        answered=False,
        disposition="ivr_only",
        wait_seconds=0.1 + 0.2,  # not a round number: kept bit for bit
    )
    for e in entries:
        store.put(e)
    for e in entries:
        assert store.get(e.linkedid) == e
    assert store.get("nope") is None
    assert len(store) == len(entries)
    store.pop(entries[0].linkedid)
    assert entries[0].linkedid not in store


def test_a_packed_call_costs_a_fraction_of_a_call_entry() -> None:
    entries = [ended_entry(n) for n in range(2_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        store = EndedCalls()
        for e in entries:
            store.put(e)
        packed = tracemalloc.take_snapshot().compare_to(before, "filename")
    finally:
        tracemalloc.stop()
    per_call = sum(d.size_diff for d in packed) / len(entries)
    one = entries[0]
    assert one.facts.started_at is not None
    full = sum(
        sys.getsizeof(x)
        for x in (
            one,
            one.facts,
            one.facts.started_at,
            one.queued_at,
            one.answered_at,
            one.ended_at,
            one.caller_number,
            one.agents,
            one.facts.wait_seconds,
            one.facts.talk_seconds,
            one.facts.wrap_seconds,
        )
    )
    # The dict slot and the packed bytes, against the entry's own objects (without
    # its dict slot, which both pay): well under half.
    assert per_call < 200, per_call
    assert per_call < full / 2, (per_call, full)


@st.composite
def day_of_events(draw: st.DrawFn) -> list[tuple[str, dict[str, object]]]:
    """Calls that queue, maybe get answered, end, and get wrapped, in a shuffled order
    that keeps each call's own events in seq order (as the bus delivers them), with
    some events delivered twice."""
    calls = draw(st.integers(min_value=1, max_value=12))
    per_call: list[list[tuple[str, dict[str, object]]]] = []
    for n in range(calls):
        cid = f"c{n}"
        start = T0 + n * 10 - draw(st.sampled_from([0, 0, 0, 12 * 3600]))  # some yesterday
        answered = draw(st.booleans())
        agent = draw(st.sampled_from(["1001", "1002", "1003"]))
        snap: dict[str, object] = {
            "started_at": start,
            "queued_at": start + 1,
            "skill": draw(st.sampled_from(["billing", "outage", None])),
            "disposition": "in_progress",
        }
        steps: list[tuple[str, dict[str, object]]] = [
            ("call", {"type": "call.started", "call_id": cid, "seq": 1, "call": dict(snap)})
        ]
        if answered:
            snap.update(answered_at=start + 4, agents=[agent], wait_seconds=3.0)
            steps.append(
                ("call", {"type": "call.answered", "call_id": cid, "seq": 2, "call": dict(snap)})
            )
        if draw(st.booleans()):
            snap.update(
                ended_at=start + 30,
                disposition="answered" if answered else "abandoned",
                talk_seconds=26.0 if answered else 0.0,
            )
            steps.append(
                ("call", {"type": "call.ended", "call_id": cid, "seq": 3, "call": dict(snap)})
            )
            if answered and draw(st.booleans()):
                wrap = {"type": "call.wrapped", "linkedid": cid, "wrap_seconds": 7.5}
                steps.insert(draw(st.integers(0, len(steps))), ("wrap", wrap))
        if draw(st.booleans()):
            steps.append(steps[draw(st.integers(0, len(steps) - 1))])  # redelivered
        per_call.append(steps)
    order: list[tuple[str, dict[str, object]]] = []
    while any(per_call):
        i = draw(st.sampled_from([k for k, s in enumerate(per_call) if s]))
        order.append(per_call[i].pop(0))
    return order


@settings(max_examples=200, deadline=None)
@given(day_of_events())
def test_totals_and_handled_are_the_fold_of_each_calls_final_state(
    events: list[tuple[str, dict[str, object]]],
) -> None:
    day = DayCalls(Thresholds(), DAY)
    for _, event in events:
        day.apply(event)
    every = [*day.calls.values(), *(e for i in day.ended if (e := day.get(i)) is not None)]
    assert all(not e.ended for e in day.calls.values())
    assert all(e.ended for e in every if e.linkedid in day.ended)
    expected: dict[str, Aggregates] = {}
    handled: dict[str, int] = {}
    for e in every:
        if not day.counts(e):
            continue
        key = e.facts.queue or ""
        expected[key] = expected.get(key, Aggregates()) + call_aggregates(e.facts, Thresholds())
        if e.answered_at is not None:
            for ext in set(e.agents):
                handled[ext] = handled.get(ext, 0) + 1
    totals = day.totals()
    assert {k: v for k, v in totals.items() if v != Aggregates()} == {
        k: v for k, v in expected.items() if v != Aggregates()
    }
    assert day.handled() == handled
    # A wrap-up that came in with or after its call's end is in that call's facts.
    for kind, event in events:
        if kind == "wrap" and (e := day.get(str(event["linkedid"]))) is not None:
            assert e.facts.wrap_seconds == 7.5
