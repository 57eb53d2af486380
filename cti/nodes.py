"""Several Asterisk nodes behind one Hotline: one AMI bridge each, one command port.

`PbxNodes` is the bridge duty when pbx.nodes lists more than one Asterisk: it starts a
CtiBridge per node (each tags its events with `pbx_node`) and offers `NodesPbx`, the
PbxCommands of the whole center:

- a command on a channel goes to the node whose bridge follows that channel (channel
  names like "PJSIP/carrier-00000003" repeat across nodes; the trackers know whose it
  is), else to each reachable node in turn until one has it;
- listings (channels, queue entries) are the union over the nodes that answer, each item
  naming its node; a node that is away is left out (see `reachable`), so one Asterisk
  down never stops the others' routing;
- originate goes to the first reachable node unless a node is named (`node(name)`);
- global variables and user events go to every reachable node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from cti.bridge import CtiBridge
from cti.commands import (
    ChannelInfo,
    ChannelNotFound,
    Originated,
    OriginatePurpose,
    PbxCommands,
    PbxUnavailable,
    QueueEntry,
    SpyMode,
)
from cti.tracking.tracker import CallTracker
from kernel.config.pbx import INTERNODE_ENDPOINT_PREFIX, PbxSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Link(Protocol):
    @property
    def ready(self) -> bool: ...


class NodeLink(Protocol):
    """What NodesPbx needs of a node's bridge (cti/bridge.py CtiBridge)."""

    node: str
    tracker: CallTracker

    @property
    def client(self) -> _Link: ...

    @property
    def commands(self) -> PbxCommands: ...


class NodesPbx:
    """PbxCommands over every node's AMI link (module docstring)."""

    def __init__(self, bridges: Sequence[NodeLink]) -> None:
        if not bridges:
            raise ValueError("no PBX node")
        self._bridges = list(bridges)
        self._by_name = {b.node: b for b in bridges}

    @property
    def names(self) -> list[str]:
        return [b.node for b in self._bridges]

    def node(self, name: str) -> PbxCommands:
        """One node's commands (raises KeyError for a node that is not configured)."""
        return self._by_name[name].commands

    def reachable(self) -> set[str]:
        """Nodes whose AMI link is up now: what a listing covers."""
        return {b.node for b in self._bridges if b.client.ready}

    def node_of_channel(self, channel: str) -> str | None:
        """The one node whose bridge follows a channel of this name; None when none or
        several do (then see `on_node`: the caller should have said which)."""
        found = {
            b.node
            for b in self._bridges
            for call in b.tracker.calls.values()
            if any(leg.channel == channel for leg in call.legs.values())
        }
        return found.pop() if len(found) == 1 else None

    def node_of_call(self, linkedid: str) -> str | None:
        return next((b.node for b in self._bridges if linkedid in b.tracker.calls), None)

    def _first(self) -> PbxCommands:
        up = [b for b in self._bridges if b.client.ready]
        return (up or self._bridges)[0].commands

    async def _on_channel(self, channel: str, act: Callable[[PbxCommands], Awaitable[T]]) -> T:
        known = self.node_of_channel(channel)
        if known is not None:
            return await act(self.node(known))
        missing: Exception | None = None
        for b in self._bridges:
            if not b.client.ready:
                continue
            try:
                return await act(b.commands)
            except ChannelNotFound as exc:
                missing = exc
        raise missing or PbxUnavailable("no PBX node is reachable")

    async def _everywhere(self, act: Callable[[PbxCommands], Awaitable[Any]]) -> None:
        up = [b for b in self._bridges if b.client.ready]
        if not up:
            raise PbxUnavailable("no PBX node is reachable")
        await asyncio.gather(*(act(b.commands) for b in up))

    async def _union(self, act: Callable[[PbxCommands], Awaitable[list[T]]]) -> list[T]:
        up = [b for b in self._bridges if b.client.ready]
        if not up:
            raise PbxUnavailable("no PBX node is reachable")
        found: list[T] = []
        for part in await asyncio.gather(*(act(b.commands) for b in up)):
            found += part
        return found

    # -- PbxCommands -----------------------------------------------------------------

    async def originate(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        context: str,
        exten: str = "s",
        priority: int = 1,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        timeout_seconds: int = 30,
        uniqueid: str | None = None,
    ) -> Originated:
        return await self._first().originate(
            endpoint,
            purpose=purpose,
            context=context,
            exten=exten,
            priority=priority,
            caller_id=caller_id,
            variables=variables,
            timeout_seconds=timeout_seconds,
            uniqueid=uniqueid,
        )

    async def originate_app(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        application: str,
        data: str,
        caller_id: str | None = None,
        timeout_seconds: int = 30,
    ) -> Originated:
        return await self._first().originate_app(
            endpoint,
            purpose=purpose,
            application=application,
            data=data,
            caller_id=caller_id,
            timeout_seconds=timeout_seconds,
        )

    async def redirect(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        priority: int = 1,
        extra_channel: str | None = None,
        extra_exten: str | None = None,
    ) -> None:
        await self._on_channel(
            channel,
            lambda p: p.redirect(
                channel,
                context=context,
                exten=exten,
                priority=priority,
                extra_channel=extra_channel,
                extra_exten=extra_exten,
            ),
        )

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self._on_channel(channel, lambda p: p.hangup(channel, cause))

    async def play_dtmf(self, channel: str, digits: str) -> None:
        await self._on_channel(channel, lambda p: p.play_dtmf(channel, digits))

    async def set_var(self, channel: str, name: str, value: str) -> None:
        if not channel:  # a global variable (the wait announcements): every node's
            await self._everywhere(lambda p: p.set_var("", name, value))
            return
        await self._on_channel(channel, lambda p: p.set_var(channel, name, value))

    async def get_var(self, channel: str, name: str) -> str:
        return await self._on_channel(channel, lambda p: p.get_var(channel, name))

    async def start_recording(self, channel: str, path: str, *, options: str = "b") -> None:
        await self._on_channel(channel, lambda p: p.start_recording(channel, path, options=options))

    async def stop_recording(self, channel: str) -> None:
        await self._on_channel(channel, lambda p: p.stop_recording(channel))

    async def pause_recording(self, channel: str, paused: bool) -> None:
        await self._on_channel(channel, lambda p: p.pause_recording(channel, paused))

    async def spy(
        self,
        supervisor_endpoint: str,
        target_channel: str,
        mode: SpyMode,
        caller_id: str | None = None,
    ) -> Originated:
        # ChanSpy runs where the spied channel is.
        return await self._on_channel(
            target_channel,
            lambda p: p.spy(supervisor_endpoint, target_channel, mode, caller_id),
        )

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None:
        await self._everywhere(
            lambda p: p.queue_add(
                queue, interface, member_name=member_name, penalty=penalty, paused=paused
            )
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._everywhere(lambda p: p.queue_remove(queue, interface))

    async def queue_pause(
        self, interface: str, paused: bool, *, queue: str | None = None, reason: str = ""
    ) -> None:
        await self._everywhere(
            lambda p: p.queue_pause(interface, paused, queue=queue, reason=reason)
        )

    async def queue_entries(self, queue: str | None = None) -> list[QueueEntry]:
        return await self._union(lambda p: p.queue_entries(queue))

    async def channels(self) -> list[ChannelInfo]:
        return await self._union(lambda p: p.channels())

    async def user_event(self, name: str, headers: Mapping[str, str]) -> None:
        await self._everywhere(lambda p: p.user_event(name, headers))


class PbxNodes:
    """The bridge duty with several Asterisks: every node's bridge, started together."""

    def __init__(self, bridges: Sequence[CtiBridge]) -> None:
        self.bridges = list(bridges)
        self.commands = NodesPbx(self.bridges)

    async def start(self) -> None:
        for b in self.bridges:
            await b.start()

    async def stop(self) -> None:
        for b in reversed(self.bridges):
            try:
                await b.stop()
            except Exception:
                log.exception("stopping the bridge of node %s failed", b.node)


def reachable_nodes(pbx: PbxCommands) -> set[str] | None:
    """The nodes a listing of `pbx` covers now; None when it is one node (it covers
    everything or fails)."""
    return pbx.reachable() if isinstance(pbx, NodesPbx) else None


def on_node(pbx: PbxCommands, node: str | None) -> PbxCommands:
    """The commands of one node when `pbx` spans several, else `pbx` itself. Whoever acts
    on a call's channels must use its node's: channel names repeat across nodes (each
    numbers its Local/95777@hotline-inbound-00000003;2 from 0), so a name alone may
    reach the other node's channel."""
    if node is not None and isinstance(pbx, NodesPbx):
        with contextlib.suppress(KeyError):
            return pbx.node(node)
    return pbx


class NodeDialling:
    """How one node dials a phone homed on another (pbx.nodes): through the inter-node
    trunk the rendered pjsip.conf sets up, PJSIP/<extension>@hotline-node-<node>."""

    def __init__(self, settings: PbxSettings | None) -> None:
        self._nodes = settings.nodes if settings is not None else ()
        self._names = {n.name for n in self._nodes}

    def home(self, extension: str) -> str | None:
        """The node configured for an extension (pbx.nodes[].agents)."""
        return next((n.name for n in self._nodes if n.serves(extension)), None)

    def dial(self, extension: str, from_node: str | None, home: str | None = None) -> str | None:
        """The dial string from `from_node` to a phone on `home` (default: its configured
        node); None when the phone is on that node, or its node is not known: the
        dialplan's own endpoint then."""
        if len(self._nodes) < 2 or from_node is None:
            return None
        home = home or self.home(extension)
        if home is None or home == from_node or not {home, from_node} <= self._names:
            return None
        return f"PJSIP/{extension}@{INTERNODE_ENDPOINT_PREFIX}{home}"
