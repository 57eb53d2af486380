"""The services one backend process shares: built once by the composition root
(hotline/runtime.py) and handed to every feature. Nothing here is a module global.

`Features` is the typed list of what runs in this process, filled by the composition
root (and by each feature's component when it is built): a feature that needs another
reads `services.features.<name>`, None when that feature does not run here (an API-only
process has no bridge and no router). Feature types are imported for type checking only:
this module imports no feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from kernel.bus.port import EventBus
from kernel.clock import Clock, SystemClock
from kernel.config import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter

    from campaigns.agi import CampaignAgi
    from cti.bridge import CtiBridge
    from cti.commands import PbxCommands
    from customers.api import CustomerImports
    from desk.agent_state.port import AgentStatePort
    from followups.survey_agi import SurveyAgi
    from ivr.fastagi import IvrFastAgiServer
    from ivr.twilio.agents import TwilioAgentDialer
    from kernel.fencing import Fence
    from kernel.leadership import Leadership
    from knowledge.service import KnowledgeBase
    from recordings.playback import RecordingPlayback
    from recordings.service import RecordingService
    from routing.service import RoutingService
    from supervisor.live_service import LiveService
    from tickets.service import TicketService


@dataclass
class Features:
    # The AMI bridges, one per Asterisk node (pbx / all roles, while leading).
    bridges: list[CtiBridge] = field(default_factory=list)
    twilio_agents: TwilioAgentDialer | None = None  # Twilio callers to agents' SIP URIs
    routing: RoutingService | None = None  # one router per center (pbx / all roles)
    ivr: IvrFastAgiServer | None = None
    tickets: TicketService | None = None
    knowledge: KnowledgeBase | None = None
    surveys: SurveyAgi | None = None  # the FastAGI routes `followup` and `survey`
    campaign_agi: CampaignAgi | None = None  # the FastAGI route `campaign` (answered calls)
    recordings: RecordingService | None = None
    recording_playback: RecordingPlayback | None = None  # built by the first playback
    live: LiveService | None = None  # the supervisors' live view
    # Who answers agents' state commands when the composition root (or a test) decides
    # it; else desk/feature.py picks the router of this process, the bus, or memory.
    agent_state: AgentStatePort | None = None
    customer_imports: CustomerImports | None = None  # running customer-import jobs
    routers: list[APIRouter] = field(default_factory=list)  # extra HTTP routes (tests)
    # This process's part in the cluster (hotline/cluster.py): leading or standby.
    leadership: Leadership | None = None

    @property
    def bridge(self) -> CtiBridge | None:
        """The first node's bridge (the only one with one Asterisk)."""
        return self.bridges[0] if self.bridges else None


@dataclass
class Services:
    settings: Settings
    bus: EventBus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # None in a process that has no AMI link of its own (an API-only worker): PBX
    # commands then travel over the bus to the elected bridge.
    pbx: PbxCommands | None = None
    clock: Clock = field(default_factory=SystemClock)
    features: Features = field(default_factory=Features)
    # Set while this process leads the cluster duties: their effects check it
    # (kernel/fencing.py), so a leader that lost its term does not act on it.
    fence: Fence | None = None
