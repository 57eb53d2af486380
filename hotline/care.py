"""TicketsRuntime: the care features (tickets, knowledge, follow-ups, integrations) put
together as one component for the composition root (hotline/wiring.py `tickets` ->
TicketsRuntime(services), started with the pbx/all roles). Composition, hence here and
not in tickets/: it imports four features.

It registers on services.features, for the other features:
- tickets: the TicketService (agent API, IVR fault reports via create_fault_ticket);
- knowledge: the KnowledgeBase (suggest() on the screen pop);
- surveys: SurveyAgi, whose handle_followup / handle_post_call are the FastAGI
  routes `followup` and `survey` (the IVR's FastAGI server routes to them);
and runs: the SLA monitor, the follow-up dialer (needs services.pbx), the webhook
gateway (when tickets.webhooks are configured) and, when asked (`own_fastagi`: a process
that runs no IVR FastAGI server), a FastAGI server of its own on pbx.fastagi.host:port
serving the two survey routes and the campaign route (campaigns/agi.py).
"""

from __future__ import annotations

import logging

from campaigns.agi import CampaignAgi
from followups.dialer import FollowUpDialer
from followups.survey_agi import SurveyAgi
from hotline.services import Services
from integrations.webhooks import WebhookGateway
from ivr.agi_server import FastAgiServer, Handler
from kernel.lifecycle import Component
from knowledge.service import KnowledgeBase
from tickets.service import TicketService
from tickets.sla import SlaMonitor

log = logging.getLogger(__name__)


class TicketsRuntime:
    def __init__(self, services: Services, *, own_fastagi: bool = False) -> None:
        self.tickets = TicketService(services)
        self.knowledge = KnowledgeBase(services)
        self.surveys = SurveyAgi(services)
        features = services.features
        features.tickets = features.tickets or self.tickets
        features.knowledge = features.knowledge or self.knowledge
        features.surveys = features.surveys or self.surveys
        self.sla = SlaMonitor(services)
        self.followups = FollowUpDialer(services)
        self.components: list[Component] = [self.sla, self.followups]
        if services.settings.tickets.webhooks:
            self.components.append(WebhookGateway(services))
        if own_fastagi:
            agi = services.settings.pbx.fastagi
            features.campaign_agi = features.campaign_agi or CampaignAgi(services)
            routes: dict[str, Handler] = {
                "followup": self.surveys.handle_followup,
                "survey": self.surveys.handle_post_call,
                services.settings.campaigns.agi_route: features.campaign_agi.handle,
            }
            self.components.append(FastAgiServer(routes, agi.host, agi.port))
        self._started: list[Component] = []

    async def start(self) -> None:
        try:
            for component in self.components:
                await component.start()
                self._started.append(component)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)
