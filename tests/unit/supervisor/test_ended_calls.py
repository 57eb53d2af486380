"""Today's ended calls, packed (supervisor/ended_calls.py), and the live view that keeps
them (supervisor/live_calls.py DayCalls): the same entry comes back, it costs a fraction
of a CallEntry, and the day's totals and handled counts are what folding every call's
final state gives, whatever the order of ends, corrections and wrap-ups."""

from __future__ import annotations

import datetime as dt
import gc
import random
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


def test_the_calls_of_a_day_make_no_python_object_each() -> None:
    """Each kept call as a Python object (a key and a bytes, say) would pin the
    allocator's page it was made in for the rest of the day: the store holds its calls
    in a few buffers whatever their number."""
    entries = [ended_entry(n) for n in range(5_000)]
    store = EndedCalls()
    store.put(entries[0])
    gc.collect()
    before = sys.getallocatedblocks()
    for e in entries[1:]:
        store.put(e)
    gc.collect()
    assert sys.getallocatedblocks() - before < 100, sys.getallocatedblocks() - before
    assert len(store) == 5_000
    assert store.get(entries[4_321].linkedid) == entries[4_321]


def test_dropped_and_replaced_calls_give_their_room_back() -> None:
    store = EndedCalls()
    entries = [ended_entry(n) for n in range(3_000)]
    for e in entries:
        store.put(e)
    full = store.footprint
    for _ in range(5):  # corrections: every call written again, five times
        for e in entries:
            store.put(e)
    assert store.footprint < full * 2.5, (store.footprint, full)
    for e in entries[:2_990]:
        store.pop(e.linkedid)
    assert len(store) == 10
    assert store.footprint < full / 4, (store.footprint, full)
    assert list(store) == [e.linkedid for e in entries[2_990:]]
    assert all(store.get(e.linkedid) == e for e in entries[2_990:])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["put", "put", "put", "pop", "get", "clear"]),
            st.integers(min_value=0, max_value=40),
            st.integers(min_value=0, max_value=3),
        ),
        max_size=400,
    )
)
def test_the_store_answers_as_a_dict_would(ops: list[tuple[str, int, int]]) -> None:
    """Puts, replacements, drops and a new day in any order, against a dict: the same
    calls come back, through the table's growth, its dropped slots and compaction."""
    # A small table and a low compaction mark: growth, reuse of dropped slots, shrinking
    # and compaction all happen within a few hundred operations.
    store, model = EndedCalls(min_slots=4, compact_after=512), dict[str, CallEntry]()
    for op, n, version in ops:
        linkedid = f"1764921600.{n}"
        if op == "put":
            entry = ended_entry(n, seq=version, caller_number="9" * (version * 40))
            store.put(entry)
            model[linkedid] = entry
        elif op == "pop":
            store.pop(linkedid)
            model.pop(linkedid, None)
        elif op == "get":
            assert store.get(linkedid) == model.get(linkedid)
        else:
            store.clear()
            model.clear()
        assert len(store) == len(model)
    assert sorted(store) == sorted(model)
    assert all(store.get(k) == v for k, v in model.items())
    assert all((k in store) == (k in model) for k in (f"1764921600.{n}" for n in range(41)))


def test_a_long_day_of_puts_and_drops_answers_as_a_dict_would() -> None:
    """Many more operations than the property test draws, over enough calls that probe
    chains cross dropped slots between rebuilds."""
    rng = random.Random(20261205)
    entries = [ended_entry(n) for n in range(600)]
    store, model = EndedCalls(min_slots=4, compact_after=4096), dict[str, CallEntry]()
    for step in range(30_000):
        e = rng.choice(entries)
        if rng.random() < 0.55:
            store.put(e)
            model[e.linkedid] = e
        else:
            store.pop(e.linkedid)
            model.pop(e.linkedid, None)
        probe = rng.choice(entries).linkedid
        assert (probe in store) == (probe in model), step
    assert len(store) == len(model)
    assert all(store.get(e.linkedid) == model.get(e.linkedid) for e in entries)


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
