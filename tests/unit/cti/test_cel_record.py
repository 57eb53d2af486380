"""CEL rows of one call -> one call record, on real rows recorded from Asterisk 22."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cti.cel.record import CallSpans, CelRow, call_from_cel, group_by_call, has_ended, started_in
from tests.unit.cti.cel_scenario import T0, fixture, parse

# fixture: (disposition, skill, agent, ivr_outcome, callback, offers, no_answers)
SCENARIOS = {
    "answered": ("answered", "repair", "1002", None, False, 1, 0),
    "noanswer": ("abandoned_queue", "repair", None, None, False, 1, 1),
    "callback": ("callback_requested", "repair", None, None, True, 0, 0),
    "ivrhangup": ("abandoned_ivr", None, None, None, False, 0, 0),
    "selfservice": ("self_service", None, None, "self_service", False, 0, 0),
    "backendaway": ("abandoned_queue", "general", None, "backend_away", False, 0, 0),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_given_recorded_cel_rows_then_one_record_with_what_asterisk_knew(name: str) -> None:
    disposition, skill, agent, outcome, callback, offers, no_answers = SCENARIOS[name]
    rows = fixture(name)
    (call_id,) = group_by_call(rows)
    call = call_from_cel(rows)
    assert call is not None
    snap = call.snapshot()
    assert snap["call_id"] == call_id == f"fx-{name}"
    assert snap["disposition"] == disposition
    assert snap["skill"] == skill
    assert snap["agent"] == agent
    assert snap["ivr_outcome"] == outcome
    assert snap["callback_requested"] is callback
    assert (snap["offers"], snap["no_answers"]) == (offers, no_answers)
    assert snap["caller_number"].startswith("139000000")
    assert snap["caller_name"].startswith("客户")
    assert snap["dialed_number"] == "95777"
    assert snap["started_at"] == rows[0].eventtime
    assert snap["ended_at"] == rows[-1].eventtime
    assert snap["resynced"] is True
    assert started_in(rows, call_id)


def test_given_an_answered_call_then_times_and_talk_come_from_the_bridge() -> None:
    snap = call_from_cel(fixture("answered")).snapshot()  # type: ignore[union-attr]
    assert snap["queued_at"] - T0 == pytest.approx(0.226, abs=1e-3)
    assert snap["answered_at"] - T0 == pytest.approx(0.811, abs=1e-3)
    assert snap["talk_seconds"] == pytest.approx(8.503 - 0.811, abs=1e-2)
    assert snap["wait_seconds"] == pytest.approx(0.811 - 0.226, abs=1e-2)
    assert snap["agents"] == ["1002"]


def test_given_rows_without_linkedid_end_then_the_call_is_not_over() -> None:
    rows = [r for r in fixture("answered") if r.eventtype != "LINKEDID_END"]
    assert call_from_cel(rows) is None


def test_given_only_the_tail_of_a_call_then_it_did_not_start_in_these_rows() -> None:
    rows = fixture("answered")
    tail = rows[len(rows) // 2 :]
    assert not started_in(tail, "fx-answered")


# A SIP caller bridged first (no peer yet): the agent's BRIDGE_ENTER names the caller.
SIP_CALL = """
0    CHAN_START   c1  c1  channame=PJSIP/trunk-01 context=hotline-inbound exten=4008200777 cid_num=13711112222 cid_name=王五
0.1  APP_START    c1  c1  channame=PJSIP/trunk-01 context=hotline-ivr appname=AGI appdata=agi://h/ivr
5    APP_START    c1  c1  channame=PJSIP/trunk-01 context=hotline-queue appname=Queue appdata=hold-billing,,,,600
9    APP_START    c1  c1  channame=PJSIP/trunk-01 context=hotline-connect appname=Dial appdata=PJSIP/1005,15,
9    CHAN_START   a1  c1  channame=PJSIP/1005-0000000a context=hotline-agents exten=1005
12   ANSWER       a1  c1  channame=PJSIP/1005-0000000a
12   BRIDGE_ENTER c1  c1  channame=PJSIP/trunk-01
12   BRIDGE_ENTER a1  c1  channame=PJSIP/1005-0000000a peer=PJSIP/trunk-01
40   BRIDGE_EXIT  c1  c1  channame=PJSIP/trunk-01
40   HANGUP       c1  c1  channame=PJSIP/trunk-01 'extra={"hangupcause":16,"hangupsource":"PJSIP/trunk-01"}'
40.2 HANGUP       a1  c1  channame=PJSIP/1005-0000000a 'extra={"hangupcause":16}'
40.2 LINKEDID_END a1  c1  channame=PJSIP/1005-0000000a
"""


def test_given_the_caller_bridged_first_then_the_agent_is_the_one_who_joined() -> None:
    snap = call_from_cel(parse(SIP_CALL)).snapshot()  # type: ignore[union-attr]
    assert (snap["agent"], snap["answered_at"], snap["talk_seconds"]) == ("1005", T0 + 12, 28)
    assert (snap["caller_number"], snap["caller_name"]) == ("13711112222", "王五")
    assert (snap["dialed_number"], snap["skill"], snap["disposition"]) == (
        "4008200777",
        "billing",
        "answered",
    )
    assert snap["ivr_ended_at"] == T0 + 5


# A channel (y1) whose Linkedid changed: bridged with an older call (x1).
LINKED = """
    0  CHAN_START   x1 x1 channame=PJSIP/trunk-02 cid_num=1390
    1  CHAN_START   y1 y1 channame=PJSIP/1007-00000001
    2  BRIDGE_ENTER y1 x1 channame=PJSIP/1007-00000001 peer=PJSIP/trunk-02
    5  HANGUP       x1 x1 channame=PJSIP/trunk-02
    5  LINKEDID_END y1 x1 channame=PJSIP/1007-00000001
    """


def test_given_a_channel_whose_linkedid_changed_then_both_ids_make_one_call() -> None:
    rows = parse(LINKED)
    groups = group_by_call(rows)
    assert list(groups) == ["x1"]
    assert len(groups["x1"]) == 5


@pytest.mark.parametrize("batch", [1, 2, 7, 10_000])
def test_given_rows_a_batch_at_a_time_then_the_spans_match_the_groups(batch: int) -> None:
    # The cursor's pass (CallSpans) must see the same ended calls, with the same first
    # row, as group_by_call over all the rows at once, however the rows are batched.
    linked = parse(LINKED)
    open_call = [r for r in fixture("answered") if r.eventtype != "LINKEDID_END"]
    calls = [fixture(n) for n in sorted(SCENARIOS)] + [linked]
    rows: list[CelRow] = []
    for n, call in enumerate(calls):
        for r in call:
            rows.append(replace(r, id=len(rows) + 1, eventtime=r.eventtime + n * 60))
    rows += [
        replace(r, id=len(rows) + i + 1, linkedid="open", uniqueid=f"o{r.uniqueid}")
        for i, r in enumerate(open_call)
    ]
    expected = {k: min(r.id for r in g) for k, g in group_by_call(rows).items() if has_ended(g)}
    spans = CallSpans()
    for i in range(0, len(rows), batch):
        spans.feed(rows[i : i + batch])
    assert spans.ended() == expected
    assert set(expected) == {f"fx-{n}" for n in SCENARIOS} | {"x1"}


def test_given_an_outbound_callback_that_nobody_answered_then_it_failed() -> None:
    rows = parse(
        """
        0  CHAN_START   hlcb-1 hlcb-1 channame=Local/13900000009@hotline-callback-1;1
        30 HANGUP       hlcb-1 hlcb-1 'extra={"hangupcause":19}'
        30 LINKEDID_END hlcb-1 hlcb-1
        """
    )
    snap = call_from_cel(rows).snapshot()  # type: ignore[union-attr]
    assert (snap["direction"], snap["disposition"], snap["hangup_cause"]) == ("out", "failed", "19")
