"""Domain events the CTI bridge publishes on the bus (topic "call").

This is the contract between cti/ and everyone downstream (call log, routing, live
stats, screen-pops). Each event is a flat JSON object:

    {"type": "call.answered", "call_id": "<linkedid>", "seq": 7, "at": "<iso UTC>",
     ..., "call": {<CallSnapshot fields>}}

`seq` increases per call, so consumers can drop duplicates (at-least-once delivery)
and restore order; `call` is the call aggregate after the event, so a consumer never
needs to replay history to know the state of a call.
"""

from __future__ import annotations

import re
from enum import StrEnum

from kernel.calls import Direction


class CallEventType(StrEnum):
    STARTED = "call.started"
    IVR_STEP = "call.ivr_step"
    IVR_COMPLETED = "call.ivr_completed"
    QUEUED = "call.queued"
    OFFERED = "call.offered"
    AGENT_NO_ANSWER = "call.agent_no_answer"
    ANSWERED = "call.answered"
    HELD = "call.held"
    RESUMED = "call.resumed"
    TRANSFERRED = "call.transferred"
    CONSULTING = "call.consulting"  # attended transfer: the agent calls the target first
    CONFERENCE = "call.conference"  # someone joined or left the call's three-way bridge
    CALLBACK_REQUESTED = "call.callback_requested"
    OVERFLOWED = "call.overflowed"
    MERGED = "call.merged"
    ENDED = "call.ended"


# UserEvents the dialplan and the IVR raise (UserEvent(<name>,Key: value,...)).
# Must be kept in sync with deploy/asterisk/extensions.conf and ivr/. Keys never reuse a
# channel-snapshot header name (Priority, Language, Exten, Context, ... are already in
# every channel event), hence CallPriority and CallLanguage.
USER_IVR_STEP = "HotlineIvrStep"  # Node, Input (ivr/)
USER_IVR_RESULT = "HotlineIvrResult"  # Outcome, Skill, CallPriority, CustomerId, Tier,
#                                       CallLanguage, Path (a/b/c), Facts (k=v;k=v)
USER_IVR_FAILED = "HotlineIvrFailed"  # AgiStatus, Queue (hotline-ivr: backend away)
USER_CALLBACK = "HotlineCallbackRequest"  # Number, Queue, CallPriority, CustomerId, Reason
USER_OVERFLOW = "HotlineFallback"  # Queue, Reason, CallPriority (hotline-fallback)
USER_OFFER = "HotlineOffer"  # Agent, Extension (optional: the router may raise it)
# Call control from the desk (callcontrol/, extensions.conf [hotline-hold] and after):
USER_HOLD = "HotlineHold"  # State held|resumed|lost, Peer (channel), Transfer (attended)
USER_TRANSFER = "HotlineTransfer"  # Kind blind|queue|requeue|outside, Target
USER_CONSULT = "HotlineConsult"  # State dialling|ended, Target, Status
USER_CONFERENCE = "HotlineConference"  # State joined, Room, Role caller|agent, Call
USER_OUTBOUND = "HotlineOutbound"  # Number, CustomerId, Agent (click-to-dial)
CONSULT_CONTEXT = "hotline-consult"
TRANSFER_CONTEXT = "hotline-transfer"  # its Dial reaches an outside number, not an agent
OUTBOUND_CONTEXT = "hotline-outbound"

# Events of calls that came in through Twilio (ivr/twilio/calls.py) carry "via": VIA_TWILIO;
# no Asterisk channel exists for them (routing/pbx/twilio_offers.py).
VIA_TWILIO = "twilio"

# Uniqueid prefixes Hotline gives the channels it originates (Originate ChannelId), so
# the tracker knows their purpose without extra state. Kept in sync with cti/commands.
ORIGINATE_PREFIXES: dict[str, Direction] = {
    "hlcb-": Direction.OUTBOUND,  # callback to a customer
    "hlfu-": Direction.OUTBOUND,  # follow-up / survey call
    "hlcp-": Direction.OUTBOUND,  # outbound campaign call
    "hlob-": Direction.OUTBOUND,  # other outbound
    "hlsp-": Direction.INTERNAL,  # supervisor spy leg
}
# Channels originated to join another call (a conference's third person): never a call of
# their own; HotlineConference names the call they join.
JOINING_PREFIXES = ("hlcf-",)

# Twilio's calls (ivr/twilio) share the call log, keyed by CallSid ("CA" + letters and
# digits), on the same pbx_node; an Asterisk Linkedid always has a '.' (epoch.sequence)
# or one of the prefixes above. The Asterisk bridge's resync never closes a Twilio call.
_TWILIO_CALL_ID = re.compile(r"^CA[0-9A-Za-z]*$")


def is_twilio_call(call_id: str) -> bool:
    return _TWILIO_CALL_ID.match(call_id) is not None
