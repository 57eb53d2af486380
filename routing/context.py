"""What the routing adapter's parts share (intake, dispatcher, callbacks, announcer).

Built by routing/service.py. `run(events)` is the one way router decisions reach the
outside: every part that calls the routing core hands the returned events to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cti.commands import PbxCommands
from cti.nodes import NodeDialling, on_node
from kernel.bus.port import EventBus
from kernel.clock import Clock
from kernel.config import Settings
from kernel.measures import Histogram
from routing.callback_store import CallbackStore
from routing.core.live import LiveCalls
from routing.core.model import RouterEvent, RoutingError
from routing.core.presence import AgentNodes
from routing.core.router import Router
from routing.store import RoutingStore

if TYPE_CHECKING:
    from routing.pbx.twilio_offers import TwilioAgents

log = logging.getLogger("routing")

# extensions.conf contexts that are not part of DialplanContract (routing owns them).
QUEUE_CONTEXT = "hotline-queue"
FALLBACK_CONTEXT = "hotline-fallback"


@dataclass
class RoutingContext:
    settings: Settings
    router: Router
    bus: EventBus
    pbx: PbxCommands
    clock: Clock
    store: RoutingStore
    callbacks_db: CallbackStore
    # The raw AMI links (the CTI bridges' clients, one per Asterisk node), for what
    # PbxCommands does not offer (AstDB lives on each node); empty where no bridge runs
    # in this process.
    amis: list[Any] = field(default_factory=list)
    # Twilio rings agents for Twilio callers (routing/pbx/twilio_offers.py); None: Twilio
    # callers are not routed here (twilio.agent_sip_uri empty).
    twilio: TwilioAgents | None = None
    live: LiveCalls = field(default_factory=LiveCalls)
    apply: Callable[[list[RouterEvent]], Awaitable[None]] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # Each request's decision and its carrying out, seconds (ops/metrics.py).
    decisions: Histogram = field(default_factory=Histogram)
    # Where agents' phones are, with several Asterisk nodes (routing/core/presence.py).
    agent_nodes: AgentNodes = field(default_factory=AgentNodes)

    # -- several Asterisk nodes (cti/nodes.py) ------------------------------------------

    def on_node(self, node: str | None) -> PbxCommands:
        """The commands of one node (where a call is to be originated); the whole
        center's when there is one node or the node is not known."""
        return on_node(self.pbx, node)

    def call_pbx(self, linkedid: str) -> PbxCommands:
        """The commands of the node a call is on (its channels' names are that node's)."""
        live = self.live.calls.get(linkedid)
        return on_node(self.pbx, live.node if live is not None else None)

    def agent_dial(self, extension: str, caller_node: str | None) -> str | None:
        """How the caller's node dials the agent when the agent's phone is on another
        node (its device states say where, else pbx.nodes[].agents): through the
        inter-node trunk; else the phone the agent chose (its browser phone). None: the
        dialplan's own endpoint."""
        home = self.agent_nodes.node_of(extension)
        trunk = NodeDialling(self.settings.pbx).dial(extension, caller_node, home)
        if trunk is not None:
            return trunk
        agent = self.router.by_extension.get(extension)
        return agent.phone if agent is not None else None  # its browser phone, if chosen

    def connect_variables(self, extension: str, node: str | None) -> dict[str, str]:
        """Originate variables for a call the PBX connects to the agent in
        [hotline-connect] (a callback, an agent campaign call) placed on `node`: the
        agent's chosen phone (its browser phone) or the trunk to its node. Without them
        the dialplan rings pbx.dialplan.agent_endpoint: the agent's desk phone, while the
        agent waits on the page."""
        dial = self.agent_dial(extension, node)
        return {"HOTLINE_AGENT_ENDPOINT": dial} if dial else {}

    async def run(
        self, request: Callable[..., list[RouterEvent]], /, *args: Any, **kwargs: Any
    ) -> None:
        """Ask the routing core something (`request(*args, **kwargs)`) and carry out what
        it decided. A refused request still hands over the deadlines it handled first."""
        started = time.perf_counter()
        try:
            events = request(*args, **kwargs)
        except RoutingError:
            if self.apply is not None:
                await self.apply(self.router.tick())
            raise
        if self.apply is not None:
            await self.apply(events)
        # A decision and its carrying out (the pop published, the PBX told).
        self.decisions.observe(time.perf_counter() - started)
        self.wake.set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("routing task %s failed", task.get_name(), exc_info=task.exception())
