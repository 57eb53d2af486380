"""Spying (supervisor/actions_spy.py) on the fake PBX: what is asked of Asterisk for
listen/whisper/barge, switching and stopping, and the refusals; error mapping."""

from __future__ import annotations

import pytest

from cti.commands import ChannelInfo, ChannelNotFound, PbxRejected, PbxUnavailable, SpyMode
from cti.fake_pbx import FakePbx
from desk.agent_state.port import AgentNotSignedIn, AgentStateUnavailable, UnknownReason
from kernel.config.pbx import DialplanContract
from routing.core.model import UnknownCall
from supervisor.actions_errors import ActionRefused, refusal
from supervisor.actions_spy import SPY_OPTIONS, Spying

CONTRACT = DialplanContract(agent_endpoint="PJSIP/{extension}")


def channel(
    name: str, uid: str, *, context: str = "hotline-connect", bridge: str = ""
) -> ChannelInfo:
    return ChannelInfo(uid, uid, name, context, "1003", "Up", "", bridge, "00:00:10")


def test_options_per_mode_are_bridged_quiet_and_end_with_the_call() -> None:
    assert SPY_OPTIONS == {
        SpyMode.LISTEN: "qEb",
        SpyMode.WHISPER: "qEwb",
        SpyMode.BARGE: "qEBb",
    }


async def test_start_originates_the_supervisor_phone_into_the_spy_context() -> None:
    pbx = FakePbx(live=[channel("PJSIP/1003-00000001", "a1", bridge="br-1")])
    session = await Spying(pbx, CONTRACT).start(
        agent_extension="1003", supervisor_extension="1901", mode=SpyMode.WHISPER, by="boss"
    )
    ((name, args),) = pbx.commands
    assert name == "originate"
    assert (args["endpoint"], args["context"], args["exten"]) == (
        "PJSIP/1901",
        "hotline-spy",
        "1003",
    )
    assert args["variables"] == {
        "HOTLINE_SPY_OPTIONS": "qEwb",
        "HOTLINE_SPY_MODE": "whisper",
        "HOTLINE_SPY_AGENT": "1003",
        "HOTLINE_SPY_BY": "boss",
    }
    assert session.session_id == args["uniqueid"]
    assert session.session_id.startswith("hlsp-")
    assert not session.active


@pytest.mark.parametrize(
    ("live", "agent", "code"),
    [
        ([], "1003", "not_on_call"),
        ([channel("PJSIP/1003-00000001", "a1")], "1003", "not_on_call"),  # ringing: no bridge
        ([channel("PJSIP/10031-00000001", "a1", bridge="b")], "1003", "not_on_call"),
        ([channel("PJSIP/1901-00000001", "a1", bridge="b")], "1901", "own_extension"),
    ],
)
async def test_start_refuses_without_an_agent_call(
    live: list[ChannelInfo], agent: str, code: str
) -> None:
    pbx = FakePbx(live=live)
    with pytest.raises(ActionRefused) as refused:
        await Spying(pbx, CONTRACT).start(
            agent_extension=agent, supervisor_extension="1901", mode=SpyMode.LISTEN, by="boss"
        )
    assert refused.value.code == code
    assert pbx.commands == []


async def test_sessions_switch_and_stop() -> None:
    spy = channel("PJSIP/1901-00000002", "hlsp-abc", context="hotline-spy")
    pbx = FakePbx(
        live=[
            channel("PJSIP/1003-00000001", "a1", bridge="b"),
            spy,
            channel("Local/1902@x-00000003;2", "hlsp-def-2", context="hotline-test-agent"),
        ]
    )
    for var, value in (("MODE", "listen"), ("AGENT", "1003"), ("BY", "boss")):
        pbx.variables[(spy.channel, f"HOTLINE_SPY_{var}")] = value
    spying = Spying(pbx, CONTRACT)
    (session,) = await spying.sessions()
    assert session.jsonable() == {
        "session_id": "hlsp-abc",
        "channel": "PJSIP/1901-00000002",
        "agent_extension": "1003",
        "supervisor": "boss",
        "mode": "listen",
        "options": "qEb",
        "active": True,
    }
    pbx.commands.clear()
    switched = await spying.switch(session, SpyMode.BARGE)
    assert switched.mode is SpyMode.BARGE
    assert [
        (n, a.get("variable"), a.get("value"), a.get("context"), a.get("exten"))
        for n, a in pbx.commands
    ] == [
        ("set_var", "HOTLINE_SPY_OPTIONS", "qEBb", None, None),
        ("set_var", "HOTLINE_SPY_MODE", "barge", None, None),
        ("redirect", None, None, "hotline-spy", "1003"),
    ]
    await spying.stop(switched)
    assert pbx.commands[-1] == ("hangup", {"channel": spy.channel, "cause": 16})
    with pytest.raises(ActionRefused) as refused:
        await spying.session("hlsp-zzz")
    assert refused.value.status == 404


async def test_a_ringing_session_cannot_switch_yet() -> None:
    ringing = channel("PJSIP/1901-00000002", "hlsp-abc", context="")
    pbx = FakePbx(live=[ringing])
    spying = Spying(pbx, CONTRACT)
    session = await spying.session("hlsp-abc")
    assert not session.active
    with pytest.raises(ActionRefused) as refused:
        await spying.switch(session, SpyMode.WHISPER)
    assert (refused.value.status, refused.value.code) == (409, "not_answered")


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (AgentNotSignedIn("x"), 409, "not_signed_in"),
        (UnknownReason("x"), 422, "unknown_reason"),
        (AgentStateUnavailable("x"), 503, "routing_unavailable"),
        (UnknownCall("c-1"), 404, "not_found"),
        (ValueError("unknown skill(s): x"), 422, "invalid_request"),
        (PbxUnavailable("down"), 503, "pbx_unavailable"),
        (ChannelNotFound("gone"), 404, "not_found"),
        (PbxRejected("Permission denied"), 502, "pbx_rejected"),
    ],
)
def test_errors_of_the_parts_become_refusals(exc: Exception, status: int, code: str) -> None:
    refused = refusal(exc)
    assert refused is not None
    assert (refused.status, refused.code) == (status, code)
    assert refused.message


def test_a_bug_is_not_a_refusal() -> None:
    assert refusal(KeyError("x")) is None
