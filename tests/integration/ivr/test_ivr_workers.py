"""IVR worker processes (ivr/workers.py, `pbx.fastagi.workers: 2`) on the real Asterisk 22:
the real Runtime (role pbx, only the IVR, the Redis bus) starts one child process beside
its own server on the one FastAGI port. The parent's listening socket is then closed,
so every call of the test is served by the child: each IVR scenario of
tests/ivr_scenarios.py that ends in an outcome gives the call record (CTI bridge + call
log of the test) its path, outcome, queue, priority and customer, as with one process
(test_ivr_fastagi_scenarios.py). A reload replaces the children; stop ends them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from devtools.services.asterisk import AsteriskInstance
from hotline.runtime import Infrastructure, Runtime
from ivr.workers import IvrWorkers
from kernel.bus import make_bus
from kernel.bus.port import EventBus
from tests.harness.cti import CtiStack, stack_settings
from tests.integration.hotline.support import ALWAYS_OPEN, fresh_redis
from tests.integration.ivr.support import seed_ivr_customers
from tests.integration.ivr.test_ivr_fastagi import IvrStack, _tickets_of
from tests.integration.ivr.test_ivr_fastagi_scenarios import PLAYED, _record, dtmf
from tests.ivr_scenarios import Scenario

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


@dataclass
class Workers:
    stack: IvrStack
    runtime: Runtime
    workers: IvrWorkers
    bus: EventBus


@pytest.fixture
async def workers(
    cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str, redis_url: str
) -> AsyncIterator[Workers]:
    shared = await fresh_redis(redis_url, db=13)
    settings = stack_settings(
        asterisk,
        db_url,
        HOTLINE_REDIS__URL=shared,
        HOTLINE_PBX__FASTAGI__WORKERS="2",
        # The children run on the real clock: open all day, every day.
        HOTLINE_BUSINESS_HOURS__WEEKLY=ALWAYS_OPEN,
        HOTLINE_BUSINESS_HOURS__HOLIDAYS="[]",
        HOTLINE_BUSINESS_HOURS__EXTRA_WORKING_DAYS="[]",
    )
    bus = make_bus(shared)
    infra = Infrastructure(bus, cti_stack.engine, cti_stack.sessions)
    runtime = Runtime(settings, role="pbx", only=["ivr"], infrastructure=infra, migrate=False)
    try:
        await runtime.start()
        component = runtime.component("ivr")
        assert isinstance(component, IvrWorkers)
        ids = await seed_ivr_customers(cti_stack.sessions)
        events = await cti_stack.bus.subscribe("call")
        stack = IvrStack(cti_stack, component.server, ids, events)
        try:
            yield Workers(stack, runtime, component, bus)
        finally:
            await stack.hang_up_all()
    finally:
        await runtime.stop()
        await bus.close()


async def _play(stack: IvrStack, case: Scenario) -> None:
    """test_ivr_fastagi_scenarios.test_scenario_on_asterisk's checks."""
    assert case.outcome is not None
    linkedid = await stack.call(case.caller, dtmf(case.keys))
    row = await _record(stack, linkedid, case.outcome)
    assert tuple(row["ivr_path"]) == case.path
    disposition = {"self_service": "self_service", "callback": "callback_requested"}
    assert row["disposition"] == disposition.get(case.outcome, "abandoned_queue")
    if case.skill:
        assert (row["queue"], row["priority"]) == (case.skill, case.priority)
    expected = stack.ids[case.customer_id] if case.customer_id is not None else None
    assert row["customer_id"] == expected
    tickets = await _tickets_of(stack.cti, linkedid)
    assert [t["priority"] for t in tickets] == (
        [case.ticket_priority] if case.ticket_priority else []
    )


async def test_given_two_workers_when_the_child_process_takes_the_calls_then_the_scenarios_play(
    workers: Workers,
) -> None:
    # One worker rig for every played scenario: spawning a child (a Python start and
    # the Runtime's imports) costs seconds, and the scenarios are the same calls.
    assert [child.is_alive() for child in workers.workers.children] == [True]
    await workers.workers.server.stop_accepting()  # only the child listens now
    for case in PLAYED:
        await _play(workers.stack, case)
    assert workers.workers.server.results == []  # not one call in this process


async def test_given_workers_when_reloaded_then_new_children_serve_and_stop_ends_them(
    workers: Workers,
) -> None:
    before = workers.workers.children
    await workers.runtime.reload(workers.runtime.settings)
    after = workers.workers.children
    assert [c.is_alive() for c in after] == [True]
    assert not any(c.is_alive() for c in before)
    assert {c.pid for c in after}.isdisjoint({c.pid for c in before})
    await workers.workers.server.stop_accepting()
    await _play(workers.stack, PLAYED[0])
    await workers.runtime.stop()
    assert not any(c.is_alive() for c in after)
