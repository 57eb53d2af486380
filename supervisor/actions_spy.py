"""Listen, whisper, barge: ChanSpy on the supervisor's phone, through the dialplan.

Contract with deploy/asterisk/extensions.conf [hotline-spy] (pbx.dialplan.spy_context):

    Originate  Channel=<supervisor phone = pbx.dialplan.agent_endpoint of their extension>
               Context=hotline-spy  Exten=<agent extension>  ChannelId=hlsp-...
               Variable: HOTLINE_SPY_OPTIONS=<ChanSpy options>  HOTLINE_SPY_MODE=<mode>
                         HOTLINE_SPY_AGENT=<agent extension>   HOTLINE_SPY_BY=<username>

Once the supervisor answers, the context runs ChanSpy(<agent endpoint>-,${HOTLINE_SPY_OPTIONS}).

Switching mode during a session: Setvar the options and mode on the supervisor's channel,
then Redirect it to the same context and extension. ChanSpy ends (ChanSpyStop) and starts
again (ChanSpyStart) with the new options; the supervisor's phone stays up and does not
ring again. (ChanSpy's `d` option lets a phone's keypad switch modes, but AMI cannot press
keys on a SIP phone and Hotline would no longer know the mode, so it is not used.)

Stateless on purpose: a session is its channel (session id = the pre-assigned uniqueid);
mode, agent and owner are its channel variables, so any API worker can list, switch and
stop sessions another one started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cti.commands import SPY_OPTIONS as BASE_OPTIONS
from cti.commands import ChannelInfo, ChannelNotFound, OriginatePurpose, PbxCommands, SpyMode
from cti.nodes import NodeDialling, on_node
from kernel.config.pbx import DEFAULT_NODE, DialplanContract, PbxSettings
from supervisor.actions_errors import ActionRefused

# q quiet, E leave with the agent's call, w whisper to the agent, B barge (both hear), and
# b: spy only on a channel that is in a bridge -- the agent's call leg, never a ringing
# phone or the other half of a Local channel (whose name has the same prefix).
SPY_OPTIONS: dict[SpyMode, str] = {mode: opts + "b" for mode, opts in BASE_OPTIONS.items()}
VAR_OPTIONS = "HOTLINE_SPY_OPTIONS"
VAR_MODE = "HOTLINE_SPY_MODE"
VAR_AGENT = "HOTLINE_SPY_AGENT"
VAR_BY = "HOTLINE_SPY_BY"
RING_SECONDS = 30


@dataclass(frozen=True, slots=True)
class SpySession:
    session_id: str  # the supervisor channel's uniqueid (hlsp-...)
    channel: str
    agent_extension: str
    supervisor: str  # username of who started it
    mode: SpyMode | None
    active: bool  # answered and spying (in the spy context); False while it rings
    node: str = DEFAULT_NODE  # the Asterisk running the ChanSpy (pbx.nodes)

    def jsonable(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "channel": self.channel,
            "agent_extension": self.agent_extension,
            "supervisor": self.supervisor,
            "mode": self.mode.value if self.mode else None,
            "options": SPY_OPTIONS[self.mode] if self.mode else None,
            "active": self.active,
        }


def _mode(value: str) -> SpyMode | None:
    try:
        return SpyMode(value)
    except ValueError:
        return None


class Spying:
    def __init__(
        self, pbx: PbxCommands, contract: DialplanContract, nodes: PbxSettings | None = None
    ) -> None:
        self._pbx = pbx
        self._contract = contract
        self._nodes = NodeDialling(nodes)

    def endpoint(self, extension: str) -> str:
        return self._contract.agent_endpoint.replace("{extension}", extension)

    async def agent_call_channel(self, extension: str) -> ChannelInfo | None:
        """The agent's channel in a bridge (on a call), as ChanSpy with `b` will find it."""
        prefix = self.endpoint(extension) + "-"
        for channel in await self._pbx.channels():
            if channel.channel.startswith(prefix) and channel.bridge_id:
                return channel
        return None

    async def start(
        self, *, agent_extension: str, supervisor_extension: str, mode: SpyMode, by: str
    ) -> SpySession:
        if agent_extension == supervisor_extension:
            raise ActionRefused(422, "own_extension", "you cannot listen to your own phone")
        target = await self.agent_call_channel(agent_extension)
        if target is None:
            raise ActionRefused(
                409, "not_on_call", f"the agent at extension {agent_extension} is not on a call"
            )
        # ChanSpy runs on the node with the agent's phone; a supervisor's phone homed on
        # another node (pbx.nodes[].agents) is rung through the inter-node trunk.
        endpoint = self._nodes.dial(supervisor_extension, target.node) or self.endpoint(
            supervisor_extension
        )
        originated = await on_node(self._pbx, target.node).originate(
            endpoint,
            purpose=OriginatePurpose.SPY,
            context=self._contract.spy_context,
            exten=agent_extension,
            caller_id=f'"{mode.value} {agent_extension}" <{agent_extension}>',
            variables={
                VAR_OPTIONS: SPY_OPTIONS[mode],
                VAR_MODE: mode.value,
                VAR_AGENT: agent_extension,
                VAR_BY: by,
            },
            timeout_seconds=RING_SECONDS,
        )
        # The channel's name is known once Asterisk creates it: see sessions().
        return SpySession(originated.uniqueid, "", agent_extension, by, mode, False)

    async def _session_of(self, channel: ChannelInfo) -> SpySession:
        pbx = on_node(self._pbx, channel.node)
        mode = await pbx.get_var(channel.channel, VAR_MODE)
        agent = await pbx.get_var(channel.channel, VAR_AGENT)
        by = await pbx.get_var(channel.channel, VAR_BY)
        active = channel.context == self._contract.spy_context
        return SpySession(
            channel.uniqueid, channel.channel, agent, by, _mode(mode), active, channel.node
        )

    async def _spy_channels(self) -> list[ChannelInfo]:
        # The supervisor's leg has exactly the pre-assigned id; "<id>-2" is the far half
        # of a Local channel (test phones), not a session of its own.
        prefix = OriginatePurpose.SPY.value
        return [
            c
            for c in await self._pbx.channels()
            if c.uniqueid.startswith(prefix) and not c.uniqueid.endswith("-2")
        ]

    async def sessions(self) -> list[SpySession]:
        found = []
        for channel in await self._spy_channels():
            try:
                found.append(await self._session_of(channel))
            except ChannelNotFound:  # hung up since the listing
                continue
        return found

    async def session(self, session_id: str) -> SpySession:
        for channel in await self._spy_channels():
            if channel.uniqueid == session_id:
                return await self._session_of(channel)
        raise ActionRefused(404, "not_found", f"no spy session {session_id} (it has ended)")

    async def switch(self, session: SpySession, mode: SpyMode) -> SpySession:
        if not session.active:
            raise ActionRefused(
                409, "not_answered", "the supervisor's phone has not answered the session yet"
            )
        pbx = on_node(self._pbx, session.node)
        await pbx.set_var(session.channel, VAR_OPTIONS, SPY_OPTIONS[mode])
        await pbx.set_var(session.channel, VAR_MODE, mode.value)
        await pbx.redirect(
            session.channel, context=self._contract.spy_context, exten=session.agent_extension
        )
        return SpySession(
            session.session_id,
            session.channel,
            session.agent_extension,
            session.supervisor,
            mode,
            True,
            session.node,
        )

    async def stop(self, session: SpySession) -> None:
        await on_node(self._pbx, session.node).hangup(session.channel)
