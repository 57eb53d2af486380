"""Rebuilding the router from Asterisk: at start and after every (re)connection to it
(pbx.connected). Asterisk's holding queues and bridges are the truth, the call log and
the IVR's channel variables fill in what the router needs (routing/pbx/restore.py):

- a caller waiting in a holding queue that the router does not know is enqueued again
  with its queue, priority, language and customer, at its place in line (it waited since
  it first queued, not since the restart); a waiting call the router knows that no
  holding queue has any more is removed;
- an agent's phone bridged with a call this router did not connect is that agent's call
  (routing core `adopt`): on a call, offered nothing else, wrap-up when the call ends;
- agents who were busy when the backend stopped (reserved, on a call, wrapping up) are
  signed in again here: on their call if Asterisk still bridges them, else ready;
- then the router decides again (`resume`) and the callback requests the dialplan kept
  in AstDB while nobody listened are recovered.
RoutingService suspends the router until the first rebuild, so nothing is offered to an
agent Asterisk still has on a call. Calls the bridge found in its resync (snapshot
`resynced`) that reach a holding queue or an agent later come here one by one
(`restore_queued`, `adopt_answered`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

from cti.commands import ChannelInfo, PbxError, QueueEntry
from cti.nodes import reachable_nodes
from kernel.config.pbx import DEFAULT_NODE
from routing.context import RoutingContext
from routing.core.model import AgentState, CallKind
from routing.core.presence import DeviceMap
from routing.pbx.astdb import recover_callbacks
from routing.pbx.callbacks import Callbacks
from routing.pbx.dispatcher import Dispatcher
from routing.pbx.restore import (
    HANDOVER_VARIABLES,
    SKILL,
    Talking,
    epoch,
    outbound_trunk_legs,
    queue_named,
    snapshot_from_row,
    talking_calls,
    trunk_extension,
    waiting_call,
)

log = logging.getLogger("routing")
CALLBACK_ATTEMPT = "hlcb-"  # routing/pbx/callbacks.py: hlcb-<callback id>x<attempt>x<random>


class Rebuilder:
    def __init__(
        self,
        ctx: RoutingContext,
        dispatcher: Dispatcher,
        callbacks: Callbacks,
        holding_queue: Callable[[str], str | None],
    ) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.callbacks = callbacks
        self.holding_queue = holding_queue
        self.devices = DeviceMap(ctx.settings.pbx.dialplan.agent_endpoint)
        # Agents busy when the backend stopped (routing/service.py reload_agents): signed
        # in by the first rebuild, on their call or ready.
        self.held: set[int] = set()
        self.rebuilds = 0
        self._lock = asyncio.Lock()
        # Calls that joined a holding queue (call.queued) since the running rebuild read
        # Asterisk's queues: its snapshot is older than they are, so their absence from it
        # says nothing. Without this a caller who arrives during a rebuild (at start, or
        # on every reconnection) was taken out of line as if gone, and waited unrouted.
        self._arrived: set[str] | None = None

    def arrived(self, core: str) -> None:
        """A call entered a holding queue (routing/intake.py)."""
        if self._arrived is not None:
            self._arrived.add(core)

    async def rebuild(self) -> None:
        async with self._lock:  # start and pbx.connected may both ask for one
            self._arrived = set()
            try:
                await self._rebuild()
            finally:
                self._arrived = None

    async def _rebuild(self) -> None:
        router, pbx = self.ctx.router, self.ctx.pbx
        try:
            entries = await pbx.queue_entries()
            channels = await pbx.channels()
        except PbxError as exc:
            log.warning("rebuild from the holding queues failed: %s", exc)
            return
        # With several nodes the listings cover the nodes that answered: a caller on a
        # node that is away now is not taken out of line (cti/nodes.py).
        listed = reachable_nodes(pbx)
        by_uid = {c.uniqueid: c for c in channels}
        waiting: list[tuple[QueueEntry, str, str]] = []
        for entry in entries:
            queue = self.holding_queue(entry.queue)
            if queue is None:
                continue
            chan = by_uid.get(entry.uniqueid)
            linkedid = chan.linkedid if chan and chan.linkedid else entry.uniqueid
            waiting.append((entry, queue, linkedid))
        talking = talking_calls(
            channels, self.devices, router.by_extension, await self._trunk_agents(channels)
        )
        unknown = [lid for _, _, lid in waiting if self._core(lid) not in router.calls]
        unknown += [t.linkedid for t in talking if self._core(t.linkedid) not in router.talking]
        rows = await self._rows(unknown)
        now, seen = self.ctx.clock.timestamp(), set()
        for entry, queue, linkedid in waiting:
            live = self.ctx.live.get(linkedid)
            live.channel, live.uniqueid, live.queue = entry.channel, entry.uniqueid, queue
            live.node = entry.node
            core = self._core(linkedid)
            seen.add(core)
            if core in router.calls or core in router.talking:
                continue
            chan = by_uid.get(entry.uniqueid)
            number = chan.caller_number if chan else ""
            await self._enqueue(entry, queue, linkedid, rows.get(linkedid), now, number)
        arrived = self._arrived or set()
        for call in list(router.calls.values()):
            if (
                call.waiting
                and call.kind is CallKind.LIVE
                and call.call_id not in seen
                and call.call_id not in arrived
                and self._listed(call.call_id, listed)
            ):
                await self.ctx.run(router.remove_call, call.call_id)
        for t in talking:
            await self._adopt(t, rows.get(t.linkedid), now)
        await self._release_held()
        await self.ctx.run(router.resume)
        self.rebuilds += 1
        await self.recover()

    async def _trunk_agents(self, channels: list[ChannelInfo]) -> dict[str, str]:
        """Several nodes: the agent behind each outbound trunk leg, from the caller's
        HOTLINE_DIAL ([hotline-connect] dialled PJSIP/<extension>@hotline-node-<node>)."""
        found: dict[str, str] = {}
        for trunk, caller in outbound_trunk_legs(channels):
            try:
                dialled = await self.ctx.on_node(caller.node).get_var(
                    caller.channel, "HOTLINE_DIAL"
                )
            except PbxError:
                continue
            ext = trunk_extension(dialled)
            if ext is not None:
                found[trunk.channel] = ext
        return found

    def _listed(self, core: str, listed: set[str] | None) -> bool:
        """Whether the listings covered this call's node (always, with one node)."""
        if listed is None:
            return True
        live = self.ctx.live.calls.get(self.ctx.live.linkedid(core))
        return live is None or live.node is None or live.node in listed

    async def recover(self) -> None:
        """Callback requests the dialplan kept in AstDB while nobody listened."""
        for ami in self.ctx.amis:  # every node's AstDB
            try:
                await recover_callbacks(ami, self.callbacks)
            except Exception as exc:  # AMI errors and unreadable values: retried next time
                log.warning("recovering callbacks from AstDB failed: %s", exc)

    # -- one call at a time (events of calls the bridge found in its resync) ---------------

    async def restore_queued(self, e: dict[str, Any], queue: str) -> None:
        """call.queued of a call that began before this router (snapshot `resynced`) and
        that the router does not know: its facts come from Asterisk and the call log,
        not from the bridge's snapshot rebuilt from the channel list."""
        linkedid = str(e["call_id"])
        async with self._lock:
            if self._core(linkedid) in self.ctx.router.calls:
                return
            now = self.ctx.clock.timestamp()
            joined = float(e.get("at") or now)
            channel, uniqueid = str(e.get("channel") or ""), str(e.get("uniqueid") or "")
            node = str(e.get("pbx_node") or DEFAULT_NODE)
            entry = QueueEntry(queue, uniqueid, channel, 0, int(max(0.0, now - joined)), 0, node)
            rows = await self._rows([linkedid])
            number = str((e.get("call") or {}).get("caller_number") or "")
            await self._enqueue(entry, queue, linkedid, rows.get(linkedid), now, number)

    async def adopt_answered(self, e: dict[str, Any], extension: str) -> None:
        """call.answered by one of our agents for a call that began before this router
        (ringing when the backend restarted): the agent is on it."""
        linkedid = str(e["call_id"])
        async with self._lock:
            if self._core(linkedid) in self.ctx.router.talking:
                return
            caller: str | None = None
            try:
                channels = await self.ctx.pbx.channels()
                trunks = await self._trunk_agents(channels)
                for t in talking_calls(
                    channels, self.devices, self.ctx.router.by_extension, trunks
                ):
                    if t.linkedid == linkedid and t.extension == extension:
                        caller = t.caller_channel
            except PbxError:
                pass  # the queue then comes from the call log
            rows = await self._rows([linkedid])
            now = self.ctx.clock.timestamp()
            answered = float(e.get("at") or now)
            node = str(e.get("pbx_node") or DEFAULT_NODE)
            t = Talking(linkedid, extension, "", caller, now - answered, node)
            await self._adopt(t, rows.get(linkedid), now)

    # -- parts -----------------------------------------------------------------------------

    def _core(self, linkedid: str) -> str:
        """The core call id; a callback attempt (hlcb-<id>x...) is its callback cb-<id>."""
        core = self.ctx.live.core_id(linkedid)
        if core == linkedid and linkedid.startswith(CALLBACK_ATTEMPT):
            callback = f"cb-{linkedid[len(CALLBACK_ATTEMPT) :].split('x', 1)[0]}"
            entry = self.callbacks.entries.get(callback)
            if entry is not None:
                self.ctx.live.alias(linkedid, callback)
                entry.linkedid, entry.customer_on_line = linkedid, True
                return callback
        return core

    async def _rows(self, linkedids: Collection[str]) -> dict[str, dict[str, Any]]:
        if not linkedids:
            return {}
        try:
            return await self.ctx.store.load_calls(linkedids)
        except Exception as exc:  # the database away must not stop routing
            log.warning("call log rows for the rebuild not read: %s", exc)
            return {}

    async def _variables(self, channel: str | None, node: str) -> dict[str, str]:
        """The IVR's hand-over variables on the caller's channel ("" = not set)."""
        if not channel:
            return {}
        pbx = self.ctx.on_node(node)

        async def one(name: str) -> tuple[str, str]:
            try:
                return name, await pbx.get_var(channel, name)
            except PbxError:
                return name, ""

        pairs = await asyncio.gather(*(one(n) for n in HANDOVER_VARIABLES))
        return {name: value for name, value in pairs if value}

    async def _enqueue(
        self,
        entry: QueueEntry,
        queue: str,
        linkedid: str,
        row: dict[str, Any] | None,
        now: float,
        caller_number: str,
    ) -> None:
        router = self.ctx.router
        variables = await self._variables(entry.channel, entry.node)
        live = self.ctx.live.get(linkedid)
        row = row or live.snapshot or None  # not logged yet: what the bridge said of it
        restored = waiting_call(
            router.plan,
            entry,
            queue,
            linkedid,
            variables,
            row,
            now=now,
            caller_number=caller_number,
        )
        live.queue, live.snapshot = queue, restored.snapshot
        live.channel = entry.channel or live.channel
        live.uniqueid = entry.uniqueid or live.uniqueid
        await self.ctx.run(
            router.enqueue,
            self._core(linkedid),
            queue,
            priority=restored.priority,
            language=restored.language,
            enqueued_at=restored.enqueued_at,
            step_base=restored.step_base,
            head=restored.head,
            predicted_wait=self.dispatcher.estimates.get(queue),
            may_overflow=linkedid not in self.dispatcher.overflowed,
        )

    async def _adopt(self, t: Talking, row: dict[str, Any] | None, now: float) -> None:
        router, settings = self.ctx.router, self.ctx.settings
        agent = router.by_extension.get(t.extension)
        core = self._core(t.linkedid)
        if agent is None or core in router.talking:
            return
        if agent.state is AgentState.LOGGED_OUT and agent.agent_id not in self.held:
            return  # signed out before: a call of its own, not one Hotline routed
        variables = await self._variables(t.caller_channel, t.node)
        skill = variables.get(SKILL) or (row or {}).get("queue") or (row or {}).get("skill")
        if not skill:
            return  # no queue ever: an agent's own call (its phone's presence says busy)
        queue = queue_named(router.plan, settings, skill) or queue_named(
            router.plan, settings, settings.ivr.operator_skill
        )
        answered = epoch((row or {}).get("answered_at")) or now - t.seconds
        live = self.ctx.live.get(t.linkedid)
        live.channel = t.caller_channel or live.channel
        live.node = t.node
        if not live.snapshot:
            live.snapshot = snapshot_from_row(t.linkedid, row, variables)
        queue = queue or router.plan.queues[0].name
        await self.ctx.run(router.adopt, core, agent.agent_id, queue, answered_at=answered)
        if router.talking.get(core) == agent.agent_id:
            self.held.discard(agent.agent_id)
            log.info("agent %s is on call %s (bridged in Asterisk)", t.extension, t.linkedid)

    async def _release_held(self) -> None:
        """Agents busy at the restart whom Asterisk does not bridge with a call: ready."""
        held, self.held = self.held, set()
        for agent_id in sorted(held):
            agent = self.ctx.router.agents.get(agent_id)
            if agent is not None and agent.state is AgentState.LOGGED_OUT:
                await self.ctx.run(self.ctx.router.login, agent_id, ready=True)
