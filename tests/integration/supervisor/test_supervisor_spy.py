"""Listen, whisper, barge on the real Asterisk 22: a supervisor's (Local channel) phone
spies on a live agent call through [hotline-spy], switches listen -> whisper -> barge
without ringing again, and hangs up; the ChanSpy options each time are read from the AMI
events of the sandbox-only `hotline-trace` account (Newexten AppData, VarSet). Then the
same through the HTTP API: the action answers 201 and leaves an audit row; refusals
(agent not on a call, another's extension) are audited too; roles are enforced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent_api.auth import Principal
from cti.commands import SpyMode
from db.models import Role
from desk.agent_state.memory import InMemoryAgentState
from devtools.services.asterisk import AsteriskInstance
from hotline.http import create_app
from hotline.services import Services
from supervisor.actions import SupervisorActions
from supervisor.actions_errors import ActionRefused
from tests.harness.cti import CtiStack
from tests.harness.http_app import add_user, api_client, bearer, login
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.integration.supervisor.support import (
    AGENT_EXT,
    AGENT_PREFIX,
    BOSS_EXT,
    Trace,
    agent_call,
    audit_rows,
    hang_up_all,
    spy_services,
    tracing,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


@pytest.fixture
async def trace(asterisk: AsteriskInstance) -> AsyncIterator[Trace]:
    async with tracing(asterisk) as found:
        yield found


@pytest.fixture
def services(cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str) -> Services:
    return spy_services(cti_stack, asterisk, db_url)


async def test_listen_then_whisper_then_barge_on_a_live_call(
    cti_stack: CtiStack, asterisk: AsteriskInstance, services: Services, trace: Trace
) -> None:
    agent = await add_user(services, "agent03", Role.AGENT, AGENT_EXT, display_name="王芳")
    boss = await add_user(services, "boss", Role.SUPERVISOR, BOSS_EXT, display_name="陈主管")
    assert agent.id is not None
    assert boss.id is not None
    actor = Principal(boss.id, "boss", "陈主管", Role.SUPERVISOR, BOSS_EXT, "t", 0.0)
    state = InMemoryAgentState(services.bus, services.clock, ["break", "no_answer"])
    actions = SupervisorActions(services, state)
    try:
        async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")):
            linkedid = await agent_call(cti_stack)
            session = await actions.spy(actor, agent.id, SpyMode.LISTEN)
            sid = session.session_id
            assert sid.startswith("hlsp-")

            await eventually(lambda: bool(trace.spy_starts(sid)), 30, "ChanSpyStart (listen)")
            (start,) = trace.spy_starts(sid)
            assert start["SpyeeChannel"].startswith(AGENT_PREFIX)
            assert start["SpyeeChannel"].endswith(";1")  # `b`: the leg bridged with the caller
            assert start["SpyerChannel"].startswith(f"Local/{BOSS_EXT}@hotline-test-agent-")
            assert start["SpyeeLinkedid"] == linkedid
            assert trace.chanspy_data(sid) == [f"{AGENT_PREFIX},qEb"]
            (live,) = await actions.spy_sessions()
            assert (live.session_id, live.mode, live.active) == (sid, SpyMode.LISTEN, True)
            assert (live.agent_extension, live.supervisor) == (AGENT_EXT, "boss")

            await actions.switch_spy(actor, sid, SpyMode.WHISPER)
            await eventually(lambda: len(trace.spy_starts(sid)) == 2, 30, "ChanSpyStart (whisper)")
            assert len(trace.spy_stops(sid)) >= 1  # the listening spy ended first
            assert trace.chanspy_data(sid)[-1] == f"{AGENT_PREFIX},qEwb"

            await actions.switch_spy(actor, sid, SpyMode.BARGE)
            await eventually(lambda: len(trace.spy_starts(sid)) == 3, 30, "ChanSpyStart (barge)")
            assert trace.chanspy_data(sid) == [
                f"{AGENT_PREFIX},qEb",
                f"{AGENT_PREFIX},qEwb",
                f"{AGENT_PREFIX},qEBb",
            ]
            option_sets = [
                f["Value"] for f in trace.of("VarSet", Uniqueid=sid, Variable="HOTLINE_SPY_OPTIONS")
            ]
            assert option_sets == ["qEb", "qEwb", "qEBb"]
            # One phone call for the whole session: the supervisor's leg never hung up.
            assert not trace.of("Hangup", Uniqueid=sid)
            (live,) = await actions.spy_sessions()
            assert live.mode is SpyMode.BARGE

            await actions.stop_spy(actor, sid)
            await eventually(lambda: bool(trace.of("Hangup", Uniqueid=sid)), 30, "spy leg hung up")
            assert len(trace.spy_stops(sid)) == 3
            # The agent's call goes on without the supervisor.
            channels = await cti_stack.bridge.commands.channels()
            assert any(c.channel.startswith(AGENT_PREFIX) and c.bridge_id for c in channels)
            assert await actions.spy_sessions() == []

            # `E`: when the agent's call ends, so does the spy (the phone hangs up).
            again = (await actions.spy(actor, agent.id, SpyMode.LISTEN)).session_id
            await eventually(lambda: bool(trace.spy_starts(again)), 30, "ChanSpyStart (again)")
            caller = next(
                c.channel
                for c in await cti_stack.bridge.commands.channels()
                if c.uniqueid.startswith(linkedid)
            )
            await cti_stack.bridge.commands.hangup(caller)
            await eventually(lambda: bool(trace.of("Hangup", Uniqueid=again)), 30, "spy ends too")
    finally:
        await hang_up_all(cti_stack)

    rows = await audit_rows(services)
    assert [(r.action, r.detail["outcome"], r.detail["mode"]) for r in rows[:3]] == [
        ("supervisor.listen", "done", "listen"),
        ("supervisor.spy_mode", "done", "whisper"),
        ("supervisor.spy_mode", "done", "barge"),
    ]
    assert [r.detail.get("previous") for r in rows[1:3]] == ["listen", "whisper"]
    assert rows[3].action == "supervisor.spy_stop"
    assert [r.action for r in rows[4:]] == ["supervisor.listen"]
    assert {r.actor_name for r in rows} == {"boss"}
    assert rows[0].object_type == "agent"
    assert rows[0].object_id == str(agent.id)
    assert rows[0].detail["session_id"] == sid
    assert {r.object_id for r in rows[1:4]} == {sid}


async def test_spy_over_http_is_audited_refusals_too_and_needs_a_supervisor(
    cti_stack: CtiStack, asterisk: AsteriskInstance, services: Services, trace: Trace
) -> None:
    agent = await add_user(services, "agent03", Role.AGENT, AGENT_EXT, display_name="王芳")
    await add_user(services, "boss", Role.SUPERVISOR, BOSS_EXT, display_name="陈主管")
    url = f"/api/supervisor/agents/{agent.id}/spy"
    try:
        async with api_client(create_app(services)) as client:
            boss = bearer(await login(client, "boss"))
            # Not on a call yet: refused, and the refusal is audited.
            r = await client.post(url, headers=boss, json={"mode": "listen"})
            assert r.status_code == 409, r.text
            assert r.json()["error"] == "not_on_call"
            assert AGENT_EXT in r.json()["message"]

            async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")):
                await agent_call(cti_stack)
                r = await client.post(url, json={"mode": "listen"})
                assert r.status_code == 401
                a = bearer(await login(client, "agent03"))
                r = await client.post(url, headers=a, json={"mode": "barge"})
                assert r.status_code == 403
                assert r.json()["error"] == "forbidden"
                r = await client.post(url, headers=boss, json={"mode": "shout"})
                assert r.status_code == 422
                assert r.json()["error"] == "invalid_request"
                # A supervisor rings only their own phone.
                r = await client.post(
                    url, headers=boss, json={"mode": "listen", "extension": "1002"}
                )
                assert r.status_code == 403, r.text

                r = await client.post(url, headers=boss, json={"mode": "whisper"})
                assert r.status_code == 201, r.text
                sid = r.json()["session_id"]
                assert r.json()["options"] == "qEwb"
                await eventually(lambda: bool(trace.spy_starts(sid)), 30, "ChanSpyStart")
                assert trace.chanspy_data(sid) == [f"{AGENT_PREFIX},qEwb"]

                r = await client.get("/api/supervisor/spy", headers=boss)
                assert [(s["session_id"], s["mode"]) for s in r.json()] == [(sid, "whisper")]
                r = await client.put(
                    f"/api/supervisor/spy/{sid}", headers=a, json={"mode": "listen"}
                )
                assert r.status_code == 403
                r = await client.put(
                    f"/api/supervisor/spy/{sid}", headers=boss, json={"mode": "barge"}
                )
                assert r.status_code == 200, r.text
                await eventually(lambda: len(trace.spy_starts(sid)) == 2, 30, "barge")
                assert trace.chanspy_data(sid)[-1] == f"{AGENT_PREFIX},qEBb"
                r = await client.delete(f"/api/supervisor/spy/{sid}", headers=boss)
                assert r.status_code == 204, r.text
                await eventually(lambda: bool(trace.of("Hangup", Uniqueid=sid)), 30, "spy hung up")
                r = await client.delete(f"/api/supervisor/spy/{sid}", headers=boss)
                assert r.status_code == 404
    finally:
        await hang_up_all(cti_stack)

    rows = [
        (r.action, r.detail["outcome"], r.detail.get("error")) for r in await audit_rows(services)
    ]
    assert rows == [
        ("supervisor.listen", "refused", "not_on_call"),
        ("supervisor.listen", "refused", "forbidden"),
        ("supervisor.whisper", "done", None),
        ("supervisor.spy_mode", "done", None),
        ("supervisor.spy_stop", "done", None),
        ("supervisor.spy_stop", "refused", "not_found"),
    ]


async def test_refusals_raise_with_a_code(services: Services, cti_stack: CtiStack) -> None:
    boss = await add_user(services, "boss", Role.SUPERVISOR, BOSS_EXT)
    assert boss.id is not None
    actor = Principal(boss.id, "boss", "boss", Role.SUPERVISOR, BOSS_EXT, "t", 0.0)
    actions = SupervisorActions(services, InMemoryAgentState(services.bus, services.clock, []))
    with pytest.raises(ActionRefused) as refused:
        await actions.spy(actor, boss.id, SpyMode.LISTEN)
    assert refused.value.code == "own_extension"
    with pytest.raises(ActionRefused) as refused:
        await actions.spy(actor, 99_999, SpyMode.LISTEN)
    assert (refused.value.status, refused.value.code) == (404, "not_found")
