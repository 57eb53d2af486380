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

# Events of calls that came in through Twilio (ivr/twilio/calls.py) carry "via": VIA_TWILIO;
# no Asterisk channel exists for them (routing/pbx/twilio_offers.py).
VIA_TWILIO = "twilio"

# Uniqueid prefixes Hotline gives the channels it originates (Originate ChannelId), so
# the tracker knows their purpose without extra state. Kept in sync with cti/commands.
ORIGINATE_PREFIXES: dict[str, Direction] = {
    "hlcb-": Direction.OUTBOUND,  # callback to a customer
    "hlfu-": Direction.OUTBOUND,  # follow-up / survey call
    "hlob-": Direction.OUTBOUND,  # other outbound
    "hlsp-": Direction.INTERNAL,  # supervisor spy leg
}

# Twilio's calls (ivr/twilio) share the call log, keyed by CallSid ("CA" + letters and
# digits), on the same pbx_node; an Asterisk Linkedid always has a '.' (epoch.sequence)
# or one of the prefixes above. The Asterisk bridge's resync never closes a Twilio call.
_TWILIO_CALL_ID = re.compile(r"^CA[0-9A-Za-z]*$")


def is_twilio_call(call_id: str) -> bool:
    return _TWILIO_CALL_ID.match(call_id) is not None
