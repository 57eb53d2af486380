"""The agent state port: the in-memory stand-in's transitions, and the bus protocol that
carries commands to whoever owns the state machine (errors cross the bus intact)."""

from __future__ import annotations

import pytest

from db.models import AgentStateName as S
from desk.agent_state.bus import AgentCommandServer, BusAgentState
from desk.agent_state.memory import InMemoryAgentState
from desk.agent_state.port import (
    AgentNotSignedIn,
    AgentStatePort,
    AgentStateUnavailable,
    IllegalAgentTransition,
    UnknownReason,
)
from kernel.bus.memory import MemoryBus
from kernel.clock import FakeClock

REASONS = ["break", "lunch", "no_answer"]


async def test_given_an_agent_when_going_through_a_shift_then_states_follow_and_are_published() -> (
    None
):
    bus, clock = MemoryBus(), FakeClock(1000)
    states = await bus.subscribe("agent")
    port = InMemoryAgentState(bus, clock, REASONS)
    assert (await port.status(5)).state is S.LOGGED_OUT
    assert (await port.sign_in(5, "1005")).state is S.NOT_READY
    assert (await port.sign_in(5, "1005")).state is S.NOT_READY  # again: no change
    assert (await port.ready(5)).state is S.AVAILABLE
    assert (await port.not_ready(5, "lunch")).reason == "lunch"
    await port.ready(5)
    await port.set_state(5, S.ON_CALL)
    assert (await port.not_ready(5, "break")).state is S.ON_CALL  # remembered for later
    await port.set_state(5, S.WRAP_UP)
    after = await port.wrap_up_done(5, "resolved")
    assert (after.state, after.reason) == (S.NOT_READY, "break")
    assert (await port.sign_out(5)).state is S.LOGGED_OUT
    published = []
    while True:
        try:
            published.append((await states.get(timeout=0.01)).data)
        except TimeoutError:
            break
    assert [p["state"] for p in published] == [
        "not_ready",
        "available",
        "not_ready",
        "available",
        "on_call",
        "wrap_up",
        "not_ready",
        "logged_out",
    ]
    assert published[0] == {
        "type": "agent.state",
        "agent_id": 5,
        "extension": "1005",
        "state": "not_ready",
        "reason": None,
        "at": 1000.0,
    }


async def test_given_bad_commands_then_refused_with_domain_errors() -> None:
    port = InMemoryAgentState(MemoryBus(), FakeClock(), REASONS)
    with pytest.raises(AgentNotSignedIn):
        await port.ready(5)
    await port.sign_in(5, "1005", ready=True)
    with pytest.raises(UnknownReason, match="known: break, lunch, no_answer"):
        await port.not_ready(5, "nap")
    with pytest.raises(IllegalAgentTransition):
        await port.wrap_up_done(5)
    await port.set_state(5, S.ON_CALL)
    with pytest.raises(IllegalAgentTransition):
        await port.sign_out(5)


async def test_given_a_command_server_when_commands_go_over_the_bus_then_same_answers() -> None:
    bus, clock = MemoryBus(), FakeClock()
    owner = InMemoryAgentState(bus, clock, REASONS)
    server = AgentCommandServer(bus, owner, clock)
    await server.start()
    remote: AgentStatePort = BusAgentState(bus, clock, timeout=2)
    try:
        assert (await remote.sign_in(9, "1009", ready=True)).state is S.AVAILABLE
        assert (await owner.status(9)).state is S.AVAILABLE
        status = await remote.not_ready(9, "break")
        assert (status.state, status.reason, status.extension) == (S.NOT_READY, "break", "1009")
        with pytest.raises(UnknownReason, match="nap"):
            await remote.not_ready(9, "nap")
        with pytest.raises(IllegalAgentTransition):
            await remote.wrap_up_done(9, "resolved")
        assert (await remote.status(9)).state is S.NOT_READY
    finally:
        await remote.stop()  # type: ignore[attr-defined]
        await server.stop()
        await bus.close()


async def test_given_no_command_server_when_a_command_is_sent_then_unavailable() -> None:
    bus, clock = MemoryBus(), FakeClock()
    remote = BusAgentState(bus, clock, timeout=0.2)
    try:
        with pytest.raises(AgentStateUnavailable, match="did not answer"):
            await remote.ready(1)
    finally:
        await remote.stop()
        await bus.close()


async def test_given_an_expired_command_when_the_server_reads_it_then_it_is_not_acted_on() -> None:
    bus, clock = MemoryBus(), FakeClock(1000)
    owner = InMemoryAgentState(bus, clock, REASONS)
    server = AgentCommandServer(bus, owner, clock)
    await server.start()
    replies = await bus.subscribe("agent.command.result")
    try:
        await bus.publish(
            "agent.command",
            {
                "type": "agent.command",
                "request_id": "x",
                "command": "sign_in",
                "agent_id": 3,
                "extension": "1003",
                "expires_at": 999.0,
            },
        )
        with pytest.raises(TimeoutError):
            await replies.get(timeout=0.2)
        assert (await owner.status(3)).state is S.LOGGED_OUT
    finally:
        await server.stop()
        await bus.close()
