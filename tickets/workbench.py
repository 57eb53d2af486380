"""The work-order workbench: the /tickets/ page and its API (attachments, print).

The page (tickets/static/) is served at /tickets/; its API is tickets/workbench_api.py
(reads, and attachments) next to the tickets API (tickets/api.py) that it calls for every
change. The attachment store seals files with the at-rest key of the environment
(HOTLINE_AT_REST_KEY, kernel/at_rest.py)."""

from __future__ import annotations

from pathlib import Path

from agent_api.app import HttpFeature
from hotline.services import Services
from kernel.at_rest import AtRest
from tickets.attachments import AttachmentService
from tickets.service import TicketService
from tickets.workbench_api import Workbench, router

STATIC = Path(__file__).parent / "static"


def workbench_feature(services: Services) -> HttpFeature:
    tickets = services.features.tickets
    if not isinstance(tickets, TicketService):
        tickets = TicketService(services)
    attachments = AttachmentService(services, tickets, AtRest.from_env())
    return HttpFeature(
        routers=[router],
        state={"workbench": Workbench(services, attachments)},
        static={"/tickets": STATIC},
    )
