"""The event bus's topics, in one place: what travels on the bus, who publishes it and
who listens (the contract between features), and constructors for the messages that
more than one module publishes (in the manner of wazo-calld's notifiers).

A topic's messages are JSON-ready dicts with a "type" ("call.answered", "ticket.created"
...). Subscribers that keep state must tolerate redelivery (Redis Streams backend).
"""

from __future__ import annotations

from typing import Any

# call.* domain events, one per step of a call (cti/events.py CallEventType).
# Published by: the CTI bridge (cti/bridge.py), the Twilio IVR (ivr/twilio/calls.py).
# Heard by: the call log, routing, the live view, the desk's screen-pop, recordings,
# follow-ups.
CALL = "call"
# The AMI link's state (pbx.connected with the live calls, pbx.disconnected) and phones'
# device states. Published by the bridge; heard by routing and the live view.
PBX = "pbx"
# agent.* state changes (ready, not ready, on call, wrap-up). Published by routing (and
# the desk's stand-in state machine); heard by the desk and the live view.
AGENT = "agent"
# offer.* : a call offered to an agent (the screen-pop goes out before the phone rings)
# and the desk's acknowledgements. Published by routing and the desk's hub.
OFFER = "offer"
# Alerts for supervisors: SLA breaches, recordings missing or failing verification, an
# agent's customer-file reads throttled (desk/access.py, "customer.read_volume").
ALERT = "alert"
# ticket.* lifecycle events. Published by the ticket service and the SLA monitor; heard
# by webhooks, follow-ups and the live view.
TICKET = "ticket"
# survey.* answers (keypad surveys after a call or a follow-up).
SURVEY = "survey"
# notice.* : outage and maintenance notices (customers/notices.py).
NOTICE = "notice"
# auth.* : sign-outs; every process closes the websockets of a revoked token
# (auth.revoked {jti}) or of a user an admin disabled or reset (auth.user_revoked {user_id}).
AUTH = "auth"
# campaign.* : outbound campaigns (campaigns/): campaign.changed {campaign_id, state} when
# a person creates, starts, pauses, resumes or stops one (the engine wakes), and
# campaign.progress {campaign_id, ...counts} as contacts move (the page's live progress).
# Published by campaigns/service.py and campaigns/engine.py; heard by the engine and the page.
# The answered call (campaigns/agi.py): campaign.asking {campaign_id, contact_id, attempt_id,
# step} before each question, campaign.call_result {..., outcome, end, where} once known.
# An agent's choice on a preview pop: campaign.preview_decision {agent_id, call_id,
# decision: call|skip}, published by desk/routes/agent_api.py, heard by the router
# (routing/intake.py -> routing/pbx/campaign_calls.py); campaign.changed also wakes
# campaigns/agent_dialer.py.
CAMPAIGN = "campaign"
# sms.* : a text message put in the outbox (sms.queued {sms_id}: the gateway wakes).
# Published by whoever queues one (integrations/sms_outbox.py); heard by integrations/sms.py.
SMS = "sms"
# Agent state commands from an API-only process to the router's process, and replies
# (desk/agent_state/bus.py).
AGENT_COMMAND = "agent.command"
AGENT_COMMAND_RESULT = "agent.command.result"
# Recording control of a live call from an API process to the recordings service of
# the leading process, and replies (recordings/control_bus.py).
RECORDING_CONTROL = "recording.control"
RECORDING_CONTROL_RESULT = "recording.control.result"
# Call control from the desk (callcontrol/bus.py): api processes ask, the leader answers.
CALL_CONTROL = "call.control"
CALL_CONTROL_RESULT = "call.control.result"
# The supervisor's board reads and actions from an API process to the leading process
# (supervisor/remote.py), and replies.
SUPERVISOR_ACTION = "supervisor.action"
SUPERVISOR_ACTION_RESULT = "supervisor.action.result"
# config.reload: every backend process reads its configuration again (`hotline reload`,
# hotline/commands/reload.py; heard by each Runtime, hotline/reload.py).
CONTROL = "control"

ALL = (CALL, PBX, AGENT, OFFER, ALERT, TICKET, SURVEY, NOTICE, AUTH, CAMPAIGN, SMS)


def recording_alert(
    kind: str, *, recording_id: int, path: str, message: str, at: float
) -> dict[str, Any]:
    """An ALERT about one recording file (`kind`: recording.missing, recording.corrupt,
    ...), as the recordings service and the playback check both publish it."""
    return {"type": kind, "recording_id": recording_id, "path": path, "message": message, "at": at}
