"""The router after a restart: the core's `adopt` (an agent Asterisk still has on a call),
the pure restore of waiting callers (routing/pbx/restore.py) and the rebuild from Asterisk
and the call log (routing/pbx/rebuild.py) over the fake PBX."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import Any, cast

import pytest

from cti.commands import ChannelInfo, QueueEntry
from cti.fake_pbx import FakePbx
from ivr.handover import dialplan_variables
from ivr.script import IvrResult, Outcome
from kernel.bus.memory import MemoryBus
from kernel.clock import FakeClock
from kernel.config import load_settings
from routing.callback_store import CallbackStore
from routing.context import RoutingContext
from routing.core.model import AgentState
from routing.core.plan import RoutingPlan
from routing.core.presence import DeviceMap
from routing.core.router import Router
from routing.intake import Intake
from routing.pbx.callbacks import Callbacks
from routing.pbx.dispatcher import Dispatcher
from routing.pbx.restore import (
    HANDOVER_VARIABLES,
    REQUEUED,
    device_of,
    keep_known,
    place_in_line,
    talking_calls,
    waiting_call,
)
from routing.store import RoutingStore, StateChange
from tests.unit.routing.support import T0, make_router, offers, ready_agent, states

ROOT = Path(__file__).resolve().parents[3]


# -- the core --------------------------------------------------------------------------------


def test_an_adopted_call_keeps_its_agent_busy_until_it_ends_then_wrap_up() -> None:
    router, clock = make_router()
    router.add_agent(1, "1001", {"repair": 8}, ["zh"])  # not signed in again yet
    router.enqueue("waiting", "repair", priority=10)
    assert states(router.adopt("talking", 1, "repair", answered_at=T0 - 60)) == [
        (1, "on_call", None)
    ]
    agent = router.agents[1]
    assert (agent.call_id, agent.answered_at) == ("talking", T0 - 60)
    assert offers(router.tick()) == []  # nothing for an agent on a call
    clock.advance(30)
    assert states(router.call_ended("talking")) == [(1, "wrap_up", None)]
    clock.advance(30)  # repair's wrap-up
    events = router.tick()
    assert states(events)[0] == (1, "available", None)
    assert offers(events) == [("waiting", 1)]


def test_adopting_a_not_ready_agent_returns_it_to_not_ready_after_the_wrap_up() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.not_ready(1, "lunch")
    router.adopt("c1", 1, "billing")
    router.call_ended("c1")
    clock.advance(10)
    assert states(router.tick())[-1] == (1, "not_ready", "lunch")


def test_adopt_leaves_a_busy_agent_alone_and_drops_the_call_from_the_line() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.enqueue("first", "billing", priority=10)  # agent 1 reserved for it
    assert router.adopt("other", 1, "billing") == []
    assert router.agents[1].state is AgentState.RESERVED
    router.add_agent(2, "1002", {"billing": 8}, ["zh"])
    router.enqueue("second", "billing", priority=10)  # nobody free: it waits
    router.adopt("second", 2, "billing")  # ... but Asterisk bridges it with agent 2
    assert "second" not in router.calls
    assert router.talking["second"] == 2


# -- restore (pure) --------------------------------------------------------------------------


def test_handover_variables_are_the_ivrs() -> None:
    result = IvrResult(Outcome.QUEUE, "billing", 30, "en", 7, "A", ("main",), ())
    assert set(HANDOVER_VARIABLES) - {REQUEUED} <= set(dialplan_variables(result))


@pytest.mark.parametrize(
    ("channel", "device"),
    [
        ("PJSIP/1001-0000000a", "PJSIP/1001"),
        ("Local/1001@hotline-test-agent-0000001a;1", "Local/1001@hotline-test-agent"),
        ("PJSIP/trunk", "PJSIP/trunk"),
    ],
)
def test_channels_name_their_device(channel: str, device: str) -> None:
    assert device_of(channel) == device


def chan(uid: str, linkedid: str, channel: str, **extra: Any) -> ChannelInfo:
    fields: dict[str, Any] = {
        "context": "",
        "exten": "",
        "state": "Up",
        "application": "Queue",
        "bridge_id": "",
        "duration": "00:00:30",
    }
    fields.update(extra)
    return ChannelInfo(uniqueid=uid, linkedid=linkedid, channel=channel, **fields)


def test_agents_bridged_with_callers_are_found() -> None:
    found = talking_calls(
        [
            chan("u1", "a", "PJSIP/trunk-00000001", application="Dial", bridge_id="b1"),
            chan("u2", "a", "PJSIP/1001-00000002", bridge_id="b1", duration="00:01:40"),
            chan("u3", "c", "PJSIP/trunk-00000003"),  # waiting, in no bridge
            chan("u4", "x", "PJSIP/1009-00000004", bridge_id="b2"),  # two agents talking
            chan("u5", "x", "PJSIP/2000-00000005", bridge_id="b2"),
        ],
        DeviceMap("PJSIP/{extension}"),
        {"1001", "1009", "2000"},
    )
    assert [(t.linkedid, t.extension, t.caller_channel, t.seconds) for t in found] == [
        ("a", "1001", "PJSIP/trunk-00000001", 100.0),
        ("x", "1009", None, 30.0),
        ("x", "2000", None, 30.0),
    ]


def test_a_resynced_snapshot_does_not_erase_what_the_restore_knew() -> None:
    known = {"customer_id": "42", "tier": "A", "language": "zh", "agents": []}
    new = {"customer_id": None, "tier": None, "caller_number": "138", "agents": ["1001"]}
    assert keep_known(known, new) == {
        "customer_id": "42",
        "tier": "A",
        "language": "zh",
        "caller_number": "138",
        "agents": ["1001"],
    }


def test_the_place_in_line_is_the_routers_own() -> None:
    ivr = {"self_service_outcome": "queue", "ivr_ended_at": dt.datetime.fromtimestamp(T0, dt.UTC)}
    assert place_in_line({**ivr, "queued_at": T0 + 2}) == T0  # chosen while the IVR talked
    assert place_in_line({"self_service_outcome": None, "queued_at": T0 + 2}) == T0 + 2
    assert place_in_line({}) is None


def test_a_waiting_caller_from_variables_row_and_queue_status() -> None:
    plan = make_router()[0].plan
    entry = QueueEntry("hold-billing", "u1", "PJSIP/trunk-01", 2, 40)
    variables = {"HOTLINE_PRIORITY": "20", "HOTLINE_TIER": "B", "HOTLINE_LANGUAGE": "en"}
    row = {"queued_at": T0 - 100, "customer_id": 42, "caller_number": "13800138000"}
    c = waiting_call(plan, entry, "billing", "c1", variables, row, now=T0)
    assert (c.priority, c.language, c.head, c.enqueued_at, c.step_base) == (
        20,
        "en",
        False,
        T0 - 100,
        T0 - 40,
    )
    assert (c.snapshot["customer_id"], c.snapshot["tier"], c.snapshot["caller_number"]) == (
        "42",
        "B",
        "13800138000",
    )
    # Back after an unanswered offer, never logged: head of the line, place from Asterisk.
    back = QueueEntry("hold-billing", "u2", "PJSIP/trunk-02", 1, 12)
    c = waiting_call(plan, back, "billing", "c2", {REQUEUED: "1"}, None, now=T0)
    assert (c.head, c.enqueued_at, c.priority) == (True, T0 - 12, 10)  # the lowest tier
    # The dialplan's own queue without the IVR (backend away): QUEUE_PRIO 0.
    away = QueueEntry("hold-billing", "u3", "PJSIP/trunk-03", 3, 5)
    c = waiting_call(plan, away, "billing", "c3", {"HOTLINE_PRIORITY": "0"}, None, now=T0)
    assert (c.priority, c.language) == (0, None)


# -- rebuild (adapter, fake PBX) ---------------------------------------------------------------


class RowStore(RoutingStore):
    """Call log rows and state history in memory."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        super().__init__(cast(Any, None))
        self.rows = rows
        self.changes: list[StateChange] = []

    async def load_calls(
        self, linkedids: Collection[str], pbx_node: str | None = None
    ) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.rows.items() if k in linkedids}

    async def record(self, change: StateChange) -> None:
        self.changes.append(change)


async def test_rebuild_restores_the_line_and_the_agents_asterisk_has_on_calls() -> None:
    # Without ageing: caller d waited 100 s and would have risen above e's priority.
    settings = load_settings(
        ROOT / "config.yaml", env={"HOTLINE_ROUTING__AGEING__ENABLED": "false"}
    )
    pbx = FakePbx(
        entries=[
            # (QUEUE_PRIO is not read: the variables it is made of are.)
            QueueEntry("hold-business", "u-d", "PJSIP/trunk-00000002", 1, 40),
            QueueEntry("hold-business", "u-e", "PJSIP/trunk-00000005", 2, 8),
        ],
        live=[
            chan("u-a", "a", "PJSIP/trunk-00000001", application="Dial", bridge_id="b1"),
            chan("u-a2", "a", "PJSIP/1001-00000004", bridge_id="b1", duration="00:01:40"),
            chan("u-d", "d", "PJSIP/trunk-00000002"),
            chan("u-e", "e", "PJSIP/trunk-00000005"),
            # Agent 1003 on a call of its own (no queue ever): not Hotline's to adopt.
            chan("u-x", "x", "PJSIP/1003-00000006", application="Dial", bridge_id="b2"),
            chan("u-y", "x", "PJSIP/2000-00000007", bridge_id="b2"),
        ],
        variables={
            ("PJSIP/trunk-00000001", "HOTLINE_SKILL"): "business",
            ("PJSIP/trunk-00000002", "HOTLINE_PRIORITY"): "20",
            ("PJSIP/trunk-00000002", "HOTLINE_TIER"): "B",
            ("PJSIP/trunk-00000002", "HOTLINE_LANGUAGE"): "en",
            ("PJSIP/trunk-00000005", "HOTLINE_PRIORITY"): "20",
            ("PJSIP/trunk-00000005", REQUEUED): "1",
        },
    )
    utc = dt.UTC
    store = RowStore(
        {
            "a": {"queue": "business", "answered_at": dt.datetime.fromtimestamp(T0 - 90, utc)},
            "d": {
                "queue": "business",
                "priority": 20,
                "self_service_outcome": "queue",
                "ivr_ended_at": dt.datetime.fromtimestamp(T0 - 101, utc),
                "queued_at": dt.datetime.fromtimestamp(T0 - 100, utc),
                "customer_id": 42,
            },
        }
    )
    clock = FakeClock(T0)
    bus = MemoryBus()
    router = Router(RoutingPlan.from_settings(settings), clock)
    ctx = RoutingContext(
        settings, router, bus, pbx, clock, store, CallbackStore(cast(Any, None), settings)
    )
    callbacks = Callbacks(ctx)
    dispatcher = Dispatcher(ctx, callbacks)
    ctx.apply = dispatcher.apply
    intake = Intake(ctx, dispatcher, callbacks)
    await ctx.run(router.suspend)
    for agent_id, ext in ((7, "1001"), (8, "1002")):
        await ctx.run(router.add_agent, agent_id, ext, {"business": 8}, ["zh", "en"])
        intake.rebuilder.held.add(agent_id)  # both were busy when the backend stopped
    await ctx.run(router.add_agent, 9, "1003", {"general": 5}, ["zh"])
    await ctx.run(router.login, 9)
    try:
        await intake.rebuild()
        assert router.talking == {"a": 7}
        assert router.agents[9].state is AgentState.NOT_READY
        assert router.agents[7].state is AgentState.ON_CALL
        assert router.agents[7].answered_at == T0 - 90
        # Agent 8 was busy but Asterisk has it on no call: ready, and it takes the head
        # of the line (of the same priority, the caller back from an unanswered offer),
        # never agent 7.
        assert router.offers == {"e": 8}
        d = router.calls["d"]
        assert (d.priority, d.language, d.enqueued_at, d.step_base) == (20, "en", T0 - 101, T0 - 40)
        assert ctx.live.calls["d"].snapshot["customer_id"] == "42"
        # The bridge's own resync reports the caller afterwards, knowing less: kept.
        resynced = {"call_id": "d", "resynced": True, "customer_id": None, "skill": "business"}
        queued = {"type": "call.queued", "call_id": "d", "queue": "hold-business", "seq": 2}
        await intake.handle("call", {**queued, "uniqueid": "u-d", "call": resynced})
        assert ctx.live.calls["d"].snapshot["customer_id"] == "42"
        assert router.calls["d"] is d
        assert [(c.agent_id, c.state) for c in store.changes] == [
            (9, "not_ready"),
            (7, "on_call"),
            (8, "available"),
            (8, "reserved"),
        ]
    finally:
        for task in list(ctx.tasks):
            task.cancel()
        await bus.close()
