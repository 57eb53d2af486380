"""`agent_call`: which channels make up an agent's call, from Asterisk's channel list.

The channel lists are what CoreShowChannels gives at each step of the recorded traces
(tests/fixtures/ami/*.trace, scripts/record_callcontrol_traces.py): the names, ids,
contexts, applications and bridges are the ones real Asterisk 22 used. Agents and
customers are Local channels there: the ';1' half is the phone, the ';2' half runs
hotline-test-agent and is never the agent's leg.
"""

from __future__ import annotations

import dataclasses

from callcontrol.legs import agent_call, is_agent_leg
from cti.commands import ChannelInfo

CALL = "t2a7a0c6aaa8b4a1e"
CALLER = "Local/95777@hotline-inbound-00000006;2"
A1 = "Local/1001@hotline-test-agent-00000007;1"
A1_2 = "Local/1001@hotline-test-agent-00000007;2"
A2 = "Local/1002@hotline-test-agent-00000008;1"
A2_2 = "Local/1002@hotline-test-agent-00000008;2"
TALK, CONSULT, CONF = "e0b3c23f-talk", "5a9d9839-consult", "a2e4f2f3-conf"


def ch(
    channel: str,
    uniqueid: str,
    context: str,
    exten: str,
    application: str,
    bridge: str = "",
    *,
    linkedid: str = CALL,
    number: str = "13700000001",
    node: str = "default",
) -> ChannelInfo:
    return ChannelInfo(
        uniqueid=uniqueid,
        linkedid=linkedid,
        channel=channel,
        context=context,
        exten=exten,
        state="Up",
        application=application,
        bridge_id=bridge,
        duration="00:00:05",
        caller_number=number,
        node=node,
    )


def caller_side(context: str, exten: str, application: str, bridge: str = "") -> list[ChannelInfo]:
    """The test caller: its ';1' half waits in hotline-test-caller, its ';2' half is the
    caller as the PBX sees it (IVR, queue, and the controls' contexts)."""
    return [
        ch(CALLER[:-1] + "1", CALL, "hotline-test-caller", "s", "Wait"),
        ch(CALLER, f"{CALL}-2", context, exten, application, bridge),
    ]


def agent_1001(context: str, exten: str, application: str, bridge: str = "") -> list[ChannelInfo]:
    return [
        ch(A1, "1796363834.24", context, exten, application, bridge, number="s"),
        ch(A1_2, "1796363834.25", "hotline-test-agent", "1001", "Wait"),
    ]


def consulted_1002(bridge: str = "", application: str = "AppDial") -> list[ChannelInfo]:
    return [
        ch(A2, "1796363836.26", "hotline-test-agent", "", application, bridge, number="s"),
        ch(A2_2, "1796363836.27", "hotline-test-agent", "1002", "Answer", number="s"),
    ]


TALKING = [
    *caller_side("hotline-connect", "s", "Dial", TALK),
    *agent_1001("hotline-test-agent", "", "AppDial", TALK),
]
HELD = [
    *caller_side("hotline-hold", "caller", "MusicOnHold"),
    *agent_1001("hotline-hold", "agent", "Wait"),
]
RESUMED = [
    *caller_side("hotline-hold", "resume", "Bridge", TALK),
    *agent_1001("hotline-hold", "agent", "Wait", TALK),
]


def test_given_an_answered_call_then_talking_with_the_callers_leg() -> None:
    call = agent_call(TALKING, "1001")
    assert call is not None
    assert (call.state, call.linkedid) == ("talking", CALL)
    assert call.agent.channel == A1
    assert call.caller is not None
    assert call.caller.channel == CALLER
    assert call.view() == {
        "call_id": CALL,
        "state": "talking",
        "caller_number": "13700000001",
        "consulting": None,
        "conference": [],
    }
    assert call.node == "default"


def test_given_no_leg_of_the_extension_then_no_call() -> None:
    assert agent_call(TALKING, "1002") is None
    assert agent_call([], "1001") is None


def test_given_local_channels_then_only_the_dialled_half_is_the_agents_leg() -> None:
    assert is_agent_leg(TALKING[2], "1001")
    assert not is_agent_leg(TALKING[3], "1001")  # the ';2' half running hotline-test-agent
    only_half_two = [c for c in TALKING if not c.channel.endswith(";1") or "95777" in c.channel]
    assert agent_call(only_half_two, "1001") is None


def test_given_a_held_call_then_held_with_the_caller_on_music() -> None:
    call = agent_call(HELD, "1001")
    assert call is not None
    assert call.state == "held"
    assert call.caller is not None
    assert call.caller.channel == CALLER
    assert call.view()["caller_number"] == "13700000001"


def test_given_the_hold_redirect_still_moving_the_caller_then_held_without_caller() -> None:
    # The agent's leg reached [hotline-hold] first; the caller's MusicOnHold not yet.
    moving = [*caller_side("hotline-hold", "caller", "UserEvent"), *HELD[2:]]
    call = agent_call(moving, "1001")
    assert call is not None
    assert (call.state, call.caller) == ("held", None)


def test_given_a_resumed_call_then_talking_although_still_in_the_hold_context() -> None:
    call = agent_call(RESUMED, "1001")
    assert call is not None
    assert call.state == "talking"
    assert call.caller is not None
    assert call.caller.channel == CALLER


def test_given_a_consultation_ringing_then_consulting_without_the_consulted_leg() -> None:
    channels = [
        *caller_side("hotline-hold", "caller", "MusicOnHold"),
        *agent_1001("hotline-consult", "s", "Dial"),
        *consulted_1002(),
    ]
    call = agent_call(channels, "1001")
    assert call is not None
    assert call.state == "consulting"
    assert call.consult is None
    assert call.caller is not None
    assert call.caller.channel == CALLER
    assert call.view()["consulting"] is None


def test_given_a_consultation_answered_then_consulting_with_the_consulted_leg() -> None:
    channels = [
        *caller_side("hotline-hold", "caller", "MusicOnHold"),
        *agent_1001("hotline-consult", "s", "Dial", CONSULT),
        *consulted_1002(CONSULT),
    ]
    call = agent_call(channels, "1001")
    assert call is not None
    assert call.state == "consulting"
    assert call.consult is not None
    assert call.consult.channel == A2
    assert call.caller is not None
    assert call.caller.channel == CALLER
    assert call.view()["consulting"] == "1002"
    # The consulted agent's own view: its leg, in the same call.
    theirs = agent_call(channels, "1002")
    assert theirs is not None
    assert (theirs.agent.channel, theirs.linkedid) == (A2, CALL)


def test_given_an_attended_transfer_completed_then_the_consulted_agent_talks_with_the_caller() -> (
    None
):
    channels = [
        *caller_side("hotline-hold", "resume", "Bridge", TALK),
        *agent_1001("hotline-consult", "s", "Dial"),
        *consulted_1002(TALK),
    ]
    call = agent_call(channels, "1002")
    assert call is not None
    assert call.state == "talking"
    assert call.caller is not None
    assert call.caller.channel == CALLER


def conference_channels(*, first_agent: bool = True) -> list[ChannelInfo]:
    joining = "hlcf-96931f8d99734a9cb178"
    channels = [
        *caller_side("hotline-conference", "caller", "ConfBridge", CONF),
        ch(
            "Local/1003@hotline-test-agent-0000000f;1",
            joining,
            "hotline-conference",
            "agent",
            "ConfBridge",
            CONF,
            linkedid=joining,
        ),
        ch(
            "Local/1003@hotline-test-agent-0000000f;2",
            f"{joining}-2",
            "hotline-test-agent",
            "1003",
            "Wait",
            linkedid=joining,
        ),
        ch("CBAnn/hl-t2a7a0c6aaa8b4a1e-00000001;1", "1796363852.60", "", "", "", CONF),
    ]
    if first_agent:
        channels += agent_1001("hotline-conference", "agent", "ConfBridge", CONF)
    return channels


def test_given_a_conference_then_the_caller_and_the_others_without_the_announcer() -> None:
    call = agent_call(conference_channels(), "1001")
    assert call is not None
    assert call.state == "conference"
    assert call.linkedid == CALL
    assert call.caller is not None
    assert call.caller.channel == CALLER
    assert [c.channel for c in call.others] == ["Local/1003@hotline-test-agent-0000000f;1"]
    assert call.view()["conference"] == ["1003"]


def test_given_a_conference_then_the_joined_agent_sees_the_callers_call_not_its_hlcf_leg() -> None:
    call = agent_call(conference_channels(), "1003")
    assert call is not None
    assert call.state == "conference"
    assert call.linkedid == CALL  # not hlcf-...: the call's id comes from its caller
    assert call.agent.uniqueid.startswith("hlcf-")
    assert [c.channel for c in call.others] == [A1]


def test_given_the_first_agent_left_the_conference_then_the_other_goes_on_alone() -> None:
    channels = conference_channels(first_agent=False)
    assert agent_call(channels, "1001") is None
    call = agent_call(channels, "1003")
    assert call is not None
    assert (call.state, call.linkedid, call.others) == ("conference", CALL, ())


def test_given_the_agents_phone_ringing_then_ringing_without_a_caller() -> None:
    channels = [
        *caller_side("hotline-connect", "s", "Dial"),
        *agent_1001("hotline-test-agent", "", "AppDial"),
    ]
    call = agent_call(channels, "1001")
    assert call is not None
    assert (call.state, call.caller) == ("ringing", None)
    assert call.view()["caller_number"] == ""


def test_given_click_to_dial_answered_then_talking_with_the_customer() -> None:
    out = "hlob-116c3775c00142e88be0"
    customer = "Local/13900000009@hotline-test-customer-00000011;1"
    legs = [
        (A1, out, "hotline-outbound", "13900000009", "Dial", TALK),
        (A1_2, f"{out}-2", "hotline-test-agent", "1001", "Wait", ""),
        (customer, "1796363858.70", "hotline-test-customer", "", "AppDial", TALK),
        (customer[:-1] + "2", "1796363858.71", "hotline-test-agent", "13900000009", "Wait", ""),
    ]
    # Originate's caller id on every leg is the customer's number (the desk's dial).
    channels = [ch(*leg, linkedid=out, number="13900000009") for leg in legs]
    call = agent_call(channels, "1001")
    assert call is not None
    assert (call.state, call.linkedid) == ("talking", out)
    assert call.caller is not None
    assert call.caller.channel == customer
    assert call.view()["caller_number"] == "13900000009"


def test_given_click_to_dial_ringing_the_agent_then_ringing() -> None:
    out = "hlob-116c3775c00142e88be0"
    channels = [ch(A1, out, "hotline-test-agent", "13900000009", "AppDial", linkedid=out)]
    call = agent_call(channels, "1001")
    assert call is not None
    assert (call.state, call.linkedid, call.caller) == ("ringing", out, None)


def test_given_a_supervisor_listening_in_then_the_spy_leg_is_nobodys_call() -> None:
    spy = ch(
        "Local/1009@hotline-test-agent-00000012;1",
        "hlsp-0d9f3c2a11b84e6fa0c1",
        "hotline-spy",
        "1001",
        "ChanSpy",
        linkedid="hlsp-0d9f3c2a11b84e6fa0c1",
    )
    assert not is_agent_leg(spy, "1009")
    assert agent_call([*TALKING, spy], "1009") is None
    assert agent_call([*TALKING, spy], "1001") == agent_call(TALKING, "1001")


def test_given_a_spy_leg_on_the_agents_own_extension_then_ignored() -> None:
    # Whatever endpoint a spy leg rings, it is never the agent's call leg.
    spy = dataclasses.replace(TALKING[2], uniqueid="hlsp-aa", bridge_id="", application="ChanSpy")
    call = agent_call([spy, *TALKING], "1001")
    assert call is not None
    assert call.agent.uniqueid == "1796363834.24"
    assert agent_call([spy], "1001") is None


def test_given_a_caller_from_another_node_then_the_trunk_leg_is_never_an_agent_leg() -> None:
    # Node na: its caller was offered to agent 1007 on node nb through the inter-node
    # trunk; na sees the caller bridged with the trunk's channel, never 1007's phone.
    trunk = ch(
        "PJSIP/hotline-node-nb-0000002a",
        "1796363900.10",
        "hotline-internode",
        "1007",
        "AppDial",
        TALK,
        node="na",
    )
    caller = ch(CALLER, f"{CALL}-2", "hotline-connect", "s", "Dial", TALK, node="na")
    assert not is_agent_leg(trunk, "1007")
    assert not is_agent_leg(trunk, "hotline")
    assert agent_call([caller, trunk], "1007") is None
    # Node nb: 1007's own phone is the agent's leg, the trunk its peer (the caller as nb
    # sees it): callcontrol refuses to act there (OnAnotherNode).
    far = ch(
        "PJSIP/hotline-node-na-00000003",
        "1796363900.11",
        "hotline-internode",
        "1007",
        "Dial",
        "b2",
        node="nb",
    )
    phone = ch(
        "PJSIP/1007-00000004", "1796363900.12", "hotline-agents", "", "AppDial", "b2", node="nb"
    )
    call = agent_call([far, phone], "1007")
    assert call is not None
    assert (call.state, call.node) == ("talking", "nb")
    assert call.agent.channel == "PJSIP/1007-00000004"
    assert call.caller is not None
    assert call.caller.channel.startswith("PJSIP/hotline-node-")


def test_given_two_legs_of_one_extension_then_the_one_in_a_control_context_wins() -> None:
    # A leg of 1001 still ringing elsewhere must not hide its held call.
    ringing = ch(
        "Local/1001@hotline-test-agent-00000020;1",
        "1796363899.1",
        "hotline-test-agent",
        "",
        "AppDial",
        linkedid="t-other",
    )
    call = agent_call([ringing, *HELD], "1001")
    assert call is not None
    assert (call.state, call.linkedid) == ("held", CALL)
