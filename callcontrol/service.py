"""CallControl: the agent's call controls carried out on Asterisk, each audited.

    control = CallControl(services)                  # where the AMI link and router run
    await control.perform("hold", agent_ext, actor, {})
    await control.perform("transfer", agent_ext, actor, {"target": "queue:billing"})

Operations (args):
- state                        the agent's call: call id, state, who is on it
- hold / resume                the caller hears music on hold; hold seconds counted
- transfer {target}            blind: "agent:<ext>" (offered to that agent with a
                               screen-pop), "queue:<name>" (back in line with its
                               priority), "number:<digits>" (an outside number)
- consult {target}             attended transfer, step 1: the caller is held, the agent's
                               phone dials agent <target>; then complete | cancel
- conference {target}          three-way call (ConfBridge) with agent or supervisor
                               <target>; leave: the agent hangs up, the others go on
- dial {number, customer_id?}  click-to-dial: the agent's phone rings, then the customer
- dtmf {digits}                keys to the far end (an outside system's IVR)
- hangup

How each works in the dialplan: deploy/asterisk/extensions.conf [hotline-hold],
[hotline-consult], [hotline-transfer], [hotline-conference], [hotline-outbound]. The
bridge's tracker keeps one record per call through all of them (cti/tracking/).
Every operation writes one audit row "call.<operation>" (outcome done or refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from callcontrol.errors import (
    CallControlError,
    ControlUnavailable,
    InvalidTarget,
    NotOnCall,
    OnAnotherNode,
    TargetNotFree,
    WrongState,
)
from callcontrol.legs import (
    CONFERENCE,
    CONSULT,
    DIGITS,
    EXTENSION,
    HOLD,
    NUMBER,
    TRUNK,
    AgentCall,
    agent_call,
)
from cti.commands import (
    ChannelInfo,
    ChannelNotFound,
    OriginatePurpose,
    PbxCommands,
    PbxError,
    PbxUnavailable,
)
from cti.nodes import on_node
from cti.tracking.model import extension_of
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor, audit
from routing.core.model import AgentNotFree, RoutingError

log = logging.getLogger("callcontrol")
TRANSFER = "hotline-transfer"
OUTBOUND = "hotline-outbound"
SETTLE_SECONDS = 4.0  # how long a moved channel may take to reach its new place
ANSWER_SETTLE_SECONDS = 2.0  # an answered call's legs meet in their bridge
OPERATIONS = (
    "state",
    "hold",
    "resume",
    "transfer",
    "consult",
    "complete",
    "cancel",
    "conference",
    "leave",
    "dial",
    "dtmf",
    "hangup",
)


class CallControl:
    def __init__(self, services: Services) -> None:
        self._services = services

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def _pbx(self) -> PbxCommands:
        pbx = self._services.pbx
        if pbx is None:
            raise ControlUnavailable("this server has no link to the PBX")
        return pbx

    def _routing(self) -> Any:
        return self._services.features.routing

    async def perform(
        self, operation: str, extension: str, actor: Actor, args: dict[str, Any]
    ) -> dict[str, Any]:
        """Carry out `operation` on the call of the agent at `extension`."""
        if operation not in OPERATIONS:
            raise InvalidTarget(f"no call operation {operation!r}")
        if not extension:
            raise NotOnCall("you have no phone extension")
        handler: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]] = getattr(
            self, f"_{operation}"
        )
        if operation == "state":
            return await handler(extension, args)
        detail: dict[str, Any] = {"extension": extension, **_safe(args)}
        try:
            result = await handler(extension, args)
        except PbxUnavailable as exc:
            await self._audit(actor, operation, detail, "refused", "pbx_unavailable")
            raise ControlUnavailable(f"the PBX cannot be reached: {exc}") from None
        except ChannelNotFound as exc:
            await self._audit(actor, operation, detail, "refused", "not_on_call")
            raise NotOnCall(f"the call ended meanwhile ({exc})") from None
        except PbxError as exc:
            await self._audit(actor, operation, detail, "refused", "refused")
            raise CallControlError(f"the PBX refused: {exc}") from None
        except CallControlError as exc:
            await self._audit(actor, operation, detail, "refused", exc.code)
            raise
        await self._audit(actor, operation, {**detail, **result}, "done", None)
        return result

    async def _audit(
        self,
        actor: Actor,
        operation: str,
        detail: dict[str, Any],
        outcome: str,
        error: str | None,
    ) -> None:
        call_id = str(detail.get("call_id") or "")
        async with self._services.sessions() as session:
            await audit(
                session,
                actor=actor,
                action=f"call.{operation}",
                object_type="call",
                object_id=call_id,
                source="desk",
                detail={**detail, "outcome": outcome, **({"error": error} if error else {})},
                clock=self._services.clock,
            )

    async def _call(self, extension: str) -> AgentCall:
        # Just answered, the two legs join their bridge a moment after Asterisk reports
        # the answer: a leg not bridged yet looks "ringing" for that moment.
        deadline = time.monotonic() + ANSWER_SETTLE_SECONDS
        while True:
            call = agent_call(await self._pbx.channels(), extension)
            if call is None or call.state != "ringing" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        if call is None:
            raise NotOnCall(f"extension {extension} is not on a call")
        if call.caller is not None and call.caller.channel.startswith(TRUNK):
            raise OnAnotherNode("the caller is on another Asterisk node")
        return call

    def _node(self, call: AgentCall) -> PbxCommands:
        return on_node(self._pbx, call.node)

    async def _settled(
        self, extension: str, ok: Callable[[AgentCall | None], bool], what: str
    ) -> AgentCall | None:
        """Wait (bounded) until the agent's call looks as `ok` wants: a Redirect returns
        before the channels have moved."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            call = agent_call(await self._pbx.channels(), extension)
            if ok(call):
                return call
            if time.monotonic() > deadline:
                raise WrongState(f"the call did not reach {what} in time")
            await asyncio.sleep(0.1)

    def _dial_string(self, extension: str, node: str) -> str:
        routing = self._routing()
        dial = routing.ctx.agent_dial(extension, node) if routing is not None else None
        endpoint = self._services.settings.pbx.dialplan.agent_endpoint
        return dial or endpoint.replace("{extension}", extension)

    def _queue_of(self, call: AgentCall) -> str:
        routing = self._routing()
        queue = routing.call_queue(call.linkedid) if routing is not None else None
        if queue:
            return str(queue)
        from cti.pbx_config import default_queue

        return default_queue(self._services.settings)

    # -- operations --------------------------------------------------------------------------

    async def _state(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = agent_call(await self._pbx.channels(), extension)
        return call.view() if call is not None else {"call_id": None, "state": "idle"}

    async def _hold(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(extension)
        if call.state != "talking" or call.caller is None:
            raise WrongState(f"the call is {call.state}: only a call in progress can be held")
        await self._put_on_hold(call, call.caller)
        await self._settled(extension, lambda c: c is not None and c.state == "held", "hold")
        return {"call_id": call.linkedid, "state": "held"}

    async def _put_on_hold(self, call: AgentCall, caller: ChannelInfo) -> None:
        pbx = self._node(call)
        await pbx.set_var(caller.channel, "HOTLINE_HOLD_PEER", call.agent.channel)
        await pbx.set_var(call.agent.channel, "HOTLINE_HOLD_CALLER", caller.channel)
        await pbx.redirect(
            caller.channel,
            context=HOLD,
            exten="caller",
            extra_channel=call.agent.channel,
            extra_exten="agent",
        )

    async def _resume(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(extension)
        if call.state != "held" or call.caller is None:
            raise WrongState(f"the call is {call.state}, not on hold")
        await self._bridge_back(call, call.caller, call.agent.channel)
        await self._settled(extension, lambda c: c is not None and c.state == "talking", "resume")
        return {"call_id": call.linkedid, "state": "talking"}

    async def _bridge_back(
        self, call: AgentCall, caller: ChannelInfo, peer: str, transfer: str = ""
    ) -> None:
        pbx = self._node(call)
        await pbx.set_var(caller.channel, "HOTLINE_HOLD_PEER", peer)
        await pbx.set_var(caller.channel, "HOTLINE_XFER", transfer)
        await pbx.redirect(caller.channel, context=HOLD, exten="resume")

    async def _transfer(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        kind, _, target = str(args.get("target") or "").partition(":")
        call = await self._call(extension)
        if call.caller is None or call.state not in ("talking", "held"):
            raise WrongState(f"the call is {call.state}: nothing to transfer")
        caller, pbx, routing = call.caller, self._node(call), self._routing()
        queue = self._queue_of(call)
        if kind == "queue":
            names = {q.name for q in self._services.settings.queues}
            if target not in names:
                raise InvalidTarget(f"no queue {target!r}")
            await pbx.set_var(caller.channel, "HOTLINE_SKILL", target)
            await pbx.set_var(caller.channel, "HOTLINE_XFER", "queue")
            await pbx.set_var(caller.channel, "HOTLINE_XFER_TARGET", "")
        elif kind == "agent":
            self._check_free_agent(target, extension)  # refused before the caller moves
            await pbx.set_var(caller.channel, "HOTLINE_XFER", "agent")
            await pbx.set_var(caller.channel, "HOTLINE_XFER_TARGET", target)
        elif kind == "number":
            if not NUMBER.match(target):
                raise InvalidTarget(f"{target!r} is not a phone number")
            await pbx.set_var(caller.channel, "HOTLINE_XFER_NUMBER", target.lstrip("+"))
        else:
            raise InvalidTarget("target must be agent:<extension>, queue:<name> or number:<digits>")
        if routing is not None and kind != "agent":
            await routing.transferred_away(call.linkedid)
        exten = "outside" if kind == "number" else "queue"
        # The caller leaves its agent first (to its holding queue, or the outside number):
        # whatever happens next, it is in line or connected, never dropped.
        await pbx.redirect(caller.channel, context=TRANSFER, exten=exten)
        if kind == "agent" and routing is not None:
            live = routing.ctx.live.get(call.linkedid)
            live.channel, live.uniqueid = caller.channel, caller.uniqueid
            try:
                await routing.transfer_to(call.linkedid, target, queue)
            except (AgentNotFree, RoutingError) as exc:
                # Taken meanwhile: the caller waits in its queue for the next agent.
                log.info("transfer of %s to %s: %s (left in line)", call.linkedid, target, exc)
                await routing.transferred_away(call.linkedid)
        await self._drop_agent_leg(call)
        return {"call_id": call.linkedid, "state": "transferred", "target": f"{kind}:{target}"}

    def _check_free_agent(self, target: str, extension: str) -> None:
        if not EXTENSION.match(target) or target == extension:
            raise InvalidTarget(f"{target!r} is not another agent's extension")
        routing = self._routing()
        agent = routing.router.by_extension.get(target) if routing is not None else None
        if agent is None:
            raise InvalidTarget(f"no agent with extension {target}")
        if not agent.offerable:
            raise TargetNotFree(f"agent {target} cannot take a call now ({agent.state.value})")

    async def _drop_agent_leg(self, call: AgentCall, joined: ChannelInfo | None = None) -> None:
        """The transferring agent's leg, once the caller has left it: a leg held in
        [hotline-hold] would otherwise wait for its caller. After an attended transfer
        (`joined`: the consulted agent's leg, still in the agent's bridge) only once the
        caller's Bridge() has taken that leg: hung up earlier, the agent's leg ends its
        bridge and the consulted leg with it (the consulted agent was left with nobody,
        while the router counted it on the call)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            channels = {c.uniqueid: c for c in await self._pbx.channels()}
            agent = channels.get(call.agent.uniqueid)
            if agent is None:
                return  # its bridge ended with the caller's leaving: hung up already
            caller = channels.get(call.caller.uniqueid) if call.caller else None
            left = caller is None or not caller.bridge_id or caller.bridge_id != agent.bridge_id
            if joined is not None and caller is not None:
                peer = channels.get(joined.uniqueid)
                left = peer is None or bool(caller.bridge_id and caller.bridge_id == peer.bridge_id)
            if left or time.monotonic() > deadline:
                with contextlib.suppress(PbxError):
                    await self._node(call).hangup(agent.channel)
                return
            await asyncio.sleep(0.1)

    async def _consult(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        target = str(args.get("target") or "")
        if not EXTENSION.match(target) or target == extension:
            raise InvalidTarget(f"{target!r} is not another extension")
        call = await self._call(extension)
        if call.caller is None or call.state not in ("talking", "held"):
            raise WrongState(f"the call is {call.state}: nothing to consult about")
        if call.state == "talking":
            await self._put_on_hold(call, call.caller)
            await self._settled(extension, lambda c: c is not None and c.state == "held", "hold")
        pbx = self._node(call)
        await pbx.set_var(call.agent.channel, "HOTLINE_XFER_DONE", "")
        await pbx.set_var(
            call.agent.channel, "HOTLINE_CONSULT_DIAL", self._dial_string(target, call.node)
        )
        await pbx.redirect(call.agent.channel, context=CONSULT, exten="s")
        return {"call_id": call.linkedid, "state": "consulting", "target": target}

    async def _complete(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(extension)
        if call.state != "consulting" or call.caller is None:
            raise WrongState(f"the call is {call.state}: no consultation to complete")
        if call.consult is None:
            raise WrongState("the consulted person has not answered yet")
        pbx, target = self._node(call), extension_of(call.consult.channel)
        await pbx.set_var(call.agent.channel, "HOTLINE_XFER_DONE", "1")
        queue = self._queue_of(call)
        await self._bridge_back(call, call.caller, call.consult.channel, "attended")
        routing = self._routing()
        if routing is not None:
            await routing.hand_over(call.linkedid, target, queue)
        await self._drop_agent_leg(call, joined=call.consult)
        return {"call_id": call.linkedid, "state": "transferred", "target": f"agent:{target}"}

    async def _cancel(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(extension)
        if call.state != "consulting" or call.caller is None:
            raise WrongState(f"the call is {call.state}: no consultation to cancel")
        pbx = self._node(call)
        if call.consult is not None:
            await pbx.hangup(call.consult.channel)
        else:  # still ringing: the agent's leg goes back to the hold, the dial stops
            await pbx.redirect(call.agent.channel, context=HOLD, exten="agent")
        await self._settled(extension, lambda c: c is not None and c.state == "held", "hold")
        await self._bridge_back(call, call.caller, call.agent.channel)
        await self._settled(extension, lambda c: c is not None and c.state == "talking", "resume")
        return {"call_id": call.linkedid, "state": "talking"}

    async def _conference(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        target = str(args.get("target") or "")
        if not EXTENSION.match(target) or target == extension:
            raise InvalidTarget(f"{target!r} is not another extension")
        call = await self._call(extension)
        if call.caller is None or call.state not in ("talking", "held", "conference"):
            raise WrongState(f"the call is {call.state}: no conference from here")
        pbx, room = self._node(call), f"hl-{call.linkedid}".replace(".", "-")
        if call.state != "conference":
            await pbx.set_var(call.caller.channel, "HOTLINE_CONF_ROOM", room)
            await pbx.set_var(call.agent.channel, "HOTLINE_CONF_ROOM", room)
            await pbx.set_var(call.agent.channel, "HOTLINE_CONF_CALL", "")
            await pbx.redirect(
                call.caller.channel,
                context=CONFERENCE,
                exten="caller",
                extra_channel=call.agent.channel,
                extra_exten="agent",
            )
        number = call.caller.caller_number
        await pbx.originate(
            self._dial_string(target, call.node),
            purpose=OriginatePurpose.CONFERENCE,
            context=CONFERENCE,
            exten="agent",
            caller_id=f'"{number}" <{number}>' if number else None,
            variables={"HOTLINE_CONF_ROOM": room, "HOTLINE_CONF_CALL": call.linkedid},
        )
        return {"call_id": call.linkedid, "state": "conference", "target": target}

    async def _leave(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(extension)
        if call.state != "conference":
            raise WrongState(f"the call is {call.state}, not a conference")
        others = [extension_of(c.channel) for c in call.others]
        queue = self._queue_of(call)
        await self._node(call).hangup(call.agent.channel)
        routing = self._routing()
        if routing is not None and others:
            await routing.hand_over(call.linkedid, others[0], queue)
        return {"call_id": call.linkedid, "state": "left"}

    async def _dial(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        number = str(args.get("number") or "").strip().replace(" ", "").replace("-", "")
        if not NUMBER.match(number):
            raise InvalidTarget(f"{number!r} is not a phone number")
        customer = args.get("customer_id")
        if agent_call(await self._pbx.channels(), extension) is not None:
            raise WrongState("you are on a call: finish it first")
        routing = self._routing()
        if routing is not None:
            agent = routing.router.by_extension.get(extension)
            if agent is not None and agent.state.value in ("reserved", "on_call"):
                raise WrongState("a call is being offered to you: answer it first")
        node = self._home_node(extension)
        uid = f"{OriginatePurpose.OUTBOUND.value}{uuid.uuid4().hex[:20]}"
        digits = number.lstrip("+")
        call = {
            "call_id": uid,
            "direction": "out",
            "caller_number": digits,
            "customer_id": str(customer) if customer else None,
        }
        await self._services.bus.publish(
            topics.OFFER,
            {
                "type": "offer",
                "agent_id": args.get("agent_id"),
                "extension": extension,
                "call_id": uid,
                "channel": None,
                "skill": None,
                "priority": 0,
                "wait_seconds": 0,
                "estimated_wait": None,
                "kind": "outbound",
                "call": call,
            },
        )
        await on_node(self._pbx, node).originate(
            self._dial_string(extension, node or ""),
            purpose=OriginatePurpose.OUTBOUND,
            context=OUTBOUND,
            exten=digits,
            caller_id=f'"{digits}" <{digits}>',
            variables={
                "HOTLINE_CUSTOMER_ID": str(customer or ""),
                "HOTLINE_OUT_AGENT": extension,
            },
            uniqueid=uid,
        )
        return {"call_id": uid, "state": "dialling", "number": digits}

    def _home_node(self, extension: str) -> str | None:
        routing = self._routing()
        if routing is None or not self._services.settings.pbx.several:
            return None
        node: str | None = routing.ctx.agent_nodes.node_of(extension)
        return node

    async def _dtmf(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        digits = str(args.get("digits") or "")
        if not DIGITS.match(digits):
            raise InvalidTarget("digits: 0-9, *, #, A-D, at most 40")
        call = await self._call(extension)
        if call.state != "talking" or call.caller is None:
            raise WrongState(f"the call is {call.state}: keys go to a call in progress")
        await self._node(call).play_dtmf(call.caller.channel, digits.upper())
        return {"call_id": call.linkedid, "state": call.state, "digits": len(digits)}

    async def _hangup(self, extension: str, args: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(extension)
        pbx = self._node(call)
        if call.state == "held" and call.caller is not None:
            await pbx.hangup(call.caller.channel)  # the agent's leg follows it
        await pbx.hangup(call.agent.channel)
        return {"call_id": call.linkedid, "state": "ended"}


def _safe(args: dict[str, Any]) -> dict[str, Any]:
    """What the audit row keeps of the request: the target, never the digits typed
    (a card number read to an outside IVR)."""
    kept = {k: v for k, v in args.items() if k in ("target", "number", "customer_id")}
    if "digits" in args:
        kept["digits"] = len(str(args["digits"]))
    return kept
