"""Which channels make up an agent's call, from Asterisk's channel list. Pure.

The desk names no channel: the agent acts on "my call". `agent_call(channels, ext)` finds
the agent's own leg, the customer's leg it talks with, and what the call is doing now,
from where each channel is in the dialplan (extensions.conf [hotline-hold] and after).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cti.commands import ChannelInfo
from cti.tracking.model import extension_of
from kernel.config.pbx import INTERNODE_ENDPOINT_PREFIX

State = Literal["talking", "held", "consulting", "conference", "ringing"]
HOLD, CONSULT, CONFERENCE = "hotline-hold", "hotline-consult", "hotline-conference"
SPY_PREFIX = "hlsp-"
TRUNK = f"PJSIP/{INTERNODE_ENDPOINT_PREFIX}"
DIGITS = re.compile(r"^[0-9*#A-Da-d]{1,40}$")
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
EXTENSION = re.compile(r"^[0-9]{2,10}$")


@dataclass(frozen=True)
class AgentCall:
    linkedid: str
    state: State
    agent: ChannelInfo  # the agent's own leg
    caller: ChannelInfo | None  # the customer's leg (None while the agent's phone rings)
    consult: ChannelInfo | None = None  # the consulted agent's leg (attended transfer)
    others: tuple[ChannelInfo, ...] = ()  # everyone else in a conference

    @property
    def node(self) -> str:
        return self.agent.node

    def view(self) -> dict[str, object]:
        return {
            "call_id": self.linkedid,
            "state": self.state,
            "caller_number": self.caller.caller_number if self.caller else "",
            "consulting": extension_of(self.consult.channel) if self.consult else None,
            "conference": [extension_of(c.channel) for c in self.others],
        }


def is_agent_leg(c: ChannelInfo, extension: str) -> bool:
    """The agent's phone leg: its endpoint's channel (a Local channel's ';1' half, the one
    that was dialled), never a supervisor's spy leg nor the inter-node trunk."""
    if c.uniqueid.startswith(SPY_PREFIX) or c.channel.startswith(TRUNK):
        return False
    if extension_of(c.channel) != extension:
        return False
    return not c.channel.startswith("Local/") or c.channel.endswith(";1")


def agent_call(channels: Sequence[ChannelInfo], extension: str) -> AgentCall | None:
    mine = [c for c in channels if is_agent_leg(c, extension)]
    if not mine:
        return None
    # A consulted agent's own leg is someone else's consultation, not this agent's call;
    # the first leg in a call-control context (or bridged) is the one the agent acts on.
    mine.sort(key=lambda c: (c.context not in (HOLD, CONSULT, CONFERENCE), not c.bridge_id))
    agent = mine[0]
    bridged = [c for c in channels if c.bridge_id and c.bridge_id == agent.bridge_id]
    peers = [c for c in bridged if c.uniqueid != agent.uniqueid]
    held = [
        c
        for c in channels
        if c.linkedid == agent.linkedid and c.context == HOLD and c.application == "MusicOnHold"
    ]
    linkedid = agent.linkedid
    if agent.context == CONFERENCE:
        caller = next((c for c in peers if c.context == CONFERENCE and c.exten == "caller"), None)
        if caller is not None:
            linkedid = caller.linkedid
        others = tuple(c for c in peers if c is not caller and not c.channel.startswith("CBAnn/"))
        return AgentCall(linkedid, "conference", agent, caller, others=others)
    if agent.context == CONSULT and agent.application == "Dial":
        consult = peers[0] if peers else None
        return AgentCall(linkedid, "consulting", agent, held[0] if held else None, consult)
    if peers:
        # Bridged with someone: talking (a resumed leg keeps its [hotline-hold] context).
        return AgentCall(linkedid, "talking", agent, peers[0])
    if agent.context == HOLD:
        return AgentCall(linkedid, "held", agent, held[0] if held else None)
    return AgentCall(linkedid, "ringing", agent, None)
