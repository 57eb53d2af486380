"""After a restart: the router's view of calls it did not see begin, rebuilt from what
Asterisk and the call log say. Pure (routing/pbx/rebuild.py fetches the inputs).

A caller waiting in a holding queue, from the best source first:
- the channel variables the IVR handed over on the caller's channel (contract:
  ivr/handover.py dialplan_variables, deploy/asterisk/extensions.conf; read with AMI
  Getvar): skill, priority, customer, tier, language; and HOTLINE_REQUEUED=1, which
  [hotline-connect] sets after an unanswered offer;
- the call's row in the call log (calls): when the router first put the caller in line
  (`place_in_line`: the IVR's hand-over, else the first queue entry; kept across
  requeues); customer, tier, language, caller and IVR path for the screen-pop;
- AMI QueueStatus: the holding queue and the wait in it (the queue's steps count from
  there). Its QUEUE_PRIO is the dialplan's encoding of HOTLINE_PRIORITY and
  HOTLINE_REQUEUED, which are read themselves.
A call that Asterisk bridges with an agent's phone (CoreShowChannels BridgeId) is that
agent's call (`talking_calls`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cti.commands import ChannelInfo, QueueEntry
from cti.tracking.resync import parse_duration
from cti.tracking.tracker import FOREIGN_CHANNEL_PREFIX
from kernel.config import Settings
from kernel.config.pbx import DEFAULT_NODE, INTERNODE_ENDPOINT_PREFIX
from routing.core.plan import RoutingPlan
from routing.core.presence import DeviceMap

# The IVR's hand-over (ivr/handover.py dialplan_variables), as the router reads it back.
SKILL, PRIORITY, CUSTOMER, TIER, LANGUAGE = (
    "HOTLINE_SKILL",
    "HOTLINE_PRIORITY",
    "HOTLINE_CUSTOMER_ID",
    "HOTLINE_TIER",
    "HOTLINE_LANGUAGE",
)
REQUEUED = "HOTLINE_REQUEUED"  # extensions.conf [hotline-connect]: "1" after a no-answer
HANDOVER_VARIABLES = (SKILL, PRIORITY, CUSTOMER, TIER, LANGUAGE, REQUEUED)
IVR_TO_QUEUE = ("queue", "backend_away")  # IVR outcomes the router enqueues at once
# Asterisk names a channel <device>-<sequence in hex>, Local channels add ;1 or ;2.
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-f]+(;[12])?$")


def device_of(channel: str) -> str:
    """'PJSIP/1001-0000000a' -> 'PJSIP/1001';
    'Local/1001@hotline-test-agent-0000001a;1' -> 'Local/1001@hotline-test-agent'."""
    return _CHANNEL_SUFFIX.sub("", channel)


def queue_named(plan: RoutingPlan, settings: Settings, skill: str | None) -> str | None:
    """The routing queue of a skill or queue name (HOTLINE_SKILL, calls.queue)."""
    if not skill:
        return None
    if skill in plan.by_name:
        return skill
    found = settings.queue_for_skill(skill)
    return found.name if found else None


@dataclass(frozen=True)
class RestoredCall:
    """A waiting caller as the router enqueues it again (routing core `enqueue`)."""

    linkedid: str
    queue: str
    priority: int
    language: str | None
    enqueued_at: float  # the place in line: when the caller first queued
    step_base: float  # when it entered the holding queue it waits in now
    head: bool  # back after an unanswered offer
    snapshot: dict[str, Any]  # the call as a screen-pop shows it


@dataclass(frozen=True)
class Talking:
    """An agent's phone bridged with a call."""

    linkedid: str
    extension: str
    agent_channel: str
    caller_channel: str | None
    seconds: float  # age of the agent's leg (ringing included): the answer is no older
    node: str = DEFAULT_NODE  # the Asterisk with this bridge (pbx.nodes)


def waiting_call(
    plan: RoutingPlan,
    entry: QueueEntry,
    queue: str,
    linkedid: str,
    variables: Mapping[str, str],
    row: Mapping[str, Any] | None,
    *,
    now: float,
    caller_number: str = "",
) -> RestoredCall:
    """QUEUE_PRIO (`entry.priority`) is not read: it is the dialplan's encoding of the
    same two variables, which are read themselves."""
    row = row or {}
    head = variables.get(REQUEUED) == "1"
    given: int | None = None
    if variables.get(PRIORITY, "").isdigit():
        given = int(variables[PRIORITY])
    elif row.get("queue"):
        given = int(row.get("priority") or 0)
    tier = variables.get(TIER) or row.get("tier") or None
    priority = plan.priority(queue, tier=tier, given=given)
    joined = now - entry.wait_seconds  # QueueStatus: whole seconds, either way
    first = place_in_line(row)
    enqueued_at = joined if first is None else first
    snapshot = snapshot_from_row(linkedid, row, variables, caller_number=caller_number)
    snapshot.update(skill=queue, priority=priority, tier=tier, queued_at=enqueued_at)
    return RestoredCall(
        linkedid,
        queue,
        priority,
        snapshot.get("language"),
        enqueued_at,
        joined,
        head,
        snapshot,
    )


def place_in_line(row: Mapping[str, Any]) -> float | None:
    """When the router first put the call in line, by its own rule (routing/intake.py):
    at the IVR's result when the IVR handed the caller to a queue (the router may choose
    an agent while the IVR still talks), else when the caller entered a holding queue."""
    outcome = row.get("self_service_outcome") or row.get("ivr_outcome")  # row or snapshot
    if outcome in IVR_TO_QUEUE and row.get("ivr_ended_at"):
        return epoch(row["ivr_ended_at"])
    return epoch(row.get("queued_at"))


def snapshot_from_row(
    linkedid: str,
    row: Mapping[str, Any] | None,
    variables: Mapping[str, str],
    *,
    caller_number: str = "",
) -> dict[str, Any]:
    """A call snapshot (cti/tracking/model.py Call.snapshot keys the screen-pop reads)
    from the call log row and the hand-over variables (which win: they are Asterisk's)."""
    row = row or {}
    customer = variables.get(CUSTOMER) or row.get("customer_id")
    priority = variables.get(PRIORITY, "")
    return {
        "call_id": linkedid,
        "direction": str(getattr(row.get("direction"), "value", row.get("direction") or "in")),
        "caller_number": row.get("caller_number") or caller_number,
        "caller_name": row.get("caller_name") or "",
        "dialed_number": row.get("dialed_number") or "",
        "started_at": epoch(row.get("started_at")),
        "ivr_ended_at": epoch(row.get("ivr_ended_at")),
        "queued_at": epoch(row.get("queued_at")),
        "answered_at": epoch(row.get("answered_at")),
        "ivr_path": list(row.get("ivr_path") or []),
        "ivr_outcome": row.get("self_service_outcome"),
        "skill": variables.get(SKILL) or row.get("queue") or row.get("skill"),
        "priority": int(priority) if priority.isdigit() else row.get("priority"),
        "customer_id": str(customer) if customer else None,
        "tier": variables.get(TIER) or row.get("tier") or None,
        "language": variables.get(LANGUAGE) or row.get("language") or None,
        "agents": list(row.get("agents") or []),
        "resynced": True,
    }


def keep_known(known: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`new` (a snapshot the bridge rebuilt from the channel list) with every value
    `known` (the restored snapshot) already has."""
    return {**new, **{k: v for k, v in known.items() if v not in (None, "", [], {})}}


def is_trunk(c: ChannelInfo) -> bool:
    """A leg of the inter-node trunk (several Asterisk nodes)."""
    return c.channel.startswith(FOREIGN_CHANNEL_PREFIX)


def outbound_trunk_legs(channels: Iterable[ChannelInfo]) -> list[tuple[ChannelInfo, ChannelInfo]]:
    """(trunk leg, caller leg) of each call on the caller's node bridged with an agent on
    another node: the trunk leg is not its call's first channel (the caller is)."""
    bridges = _bridges(channels)
    found = []
    for c in channels:
        if c.bridge_id and is_trunk(c) and c.uniqueid != (c.linkedid or c.uniqueid):
            caller = next((o for o in bridges[c.bridge_id] if not is_trunk(o)), None)
            if caller is not None:
                found.append((c, caller))
    return found


def trunk_extension(dialled: str) -> str | None:
    """The agent's extension from the caller's HOTLINE_DIAL "PJSIP/1011@hotline-node-nb"."""
    user, _, endpoint = dialled.removeprefix("PJSIP/").partition("@")
    return user if user and endpoint.startswith(INTERNODE_ENDPOINT_PREFIX) else None


def _bridges(channels: Iterable[ChannelInfo]) -> dict[str, list[ChannelInfo]]:
    bridges: dict[str, list[ChannelInfo]] = {}
    for c in channels:
        if c.bridge_id:
            bridges.setdefault(c.bridge_id, []).append(c)
    return bridges


def _agent_of(c: ChannelInfo, devices: DeviceMap, trunk_agents: Mapping[str, str]) -> str | None:
    if is_trunk(c):
        return trunk_agents.get(c.channel)
    return devices.extension(device_of(c.channel))


def talking_calls(
    channels: Iterable[ChannelInfo],
    devices: DeviceMap,
    agents: Collection[str],
    trunk_agents: Mapping[str, str] | None = None,
) -> list[Talking]:
    """The phones of these agents (extensions; pbx.dialplan.agent_endpoint) sharing a
    bridge with a caller (a trunk may look like a phone: "PJSIP/trunk-0000001").

    Several nodes: `trunk_agents` names the agent behind each outbound trunk leg (its
    channel -> extension, read from the caller's HOTLINE_DIAL): the call is the
    caller's, on the caller's node. The far half (the trunk's inbound leg bridged with
    the agent's phone on the agent's node) is not a call of its own: left out."""
    trunk_agents = trunk_agents or {}
    found = []
    for members in _bridges(channels).values():
        if any(is_trunk(c) and c.uniqueid == (c.linkedid or c.uniqueid) for c in members):
            continue  # the far half of a call whose caller is on another node
        legs = [
            (
                c,
                trunk_agents.get(c.channel)
                if is_trunk(c)
                else devices.extension(device_of(c.channel)),
            )
            for c in members
        ]
        legs = [(c, ext if ext in agents else None) for c, ext in legs]
        callers = [c for c, ext in legs if ext is None]
        for c, ext in legs:
            if ext is None:
                continue
            caller = next((o for o in callers if o.linkedid == c.linkedid), None)
            caller = caller or (callers[0] if callers else None)
            found.append(
                Talking(
                    c.linkedid or c.uniqueid,
                    ext,
                    c.channel,
                    caller.channel if caller else None,
                    parse_duration(c.duration),
                    c.node,
                )
            )
    return found


def epoch(value: Any) -> float | None:
    """A row's time (aware, or naive UTC from SQLite) or an epoch -> epoch seconds."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.timestamp()
    return float(value)
