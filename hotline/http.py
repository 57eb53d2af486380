"""The HTTP app of this product: every feature's routers, in one explicit list, and the one
table mapping domain errors to HTTP statuses. The platform (agent_api/) imports no feature;
this module is where the features join it.

Statuses by domain error (the table DOMAIN_ERRORS below is the truth):
- 422: customers InvalidQuery, InvalidNotice; tickets TicketError; agent UnknownReason,
  InvalidCommand; campaigns InvalidCampaign
- 404: customers CustomerNotFound, NoticeNotFound; tickets TicketNotFound, ArticleNotFound;
  campaigns CampaignNotFound, DoNotCallNotFound
- 409: agent IllegalAgentTransition; tickets IllegalTransition; campaigns
  IllegalCampaignTransition
- 503: agent AgentStateUnavailable
(ApiError and its AccessDenied 403 / NotFound 404 carry their own status: agent_api/errors.py.)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from admin.api import admin_feature
from agent_api.app import HttpFeature
from agent_api.app import create_app as create_platform_app
from agent_api.errors import DomainError
from callcontrol.api import call_control_feature
from campaigns import errors as campaign_errors
from campaigns.api import campaigns_feature
from customers import api as customers_api
from customers.file import CustomerNotFound
from customers.notices import InvalidNotice, NoticeNotFound
from customers.search import InvalidQuery
from desk.agent_state.port import (
    AgentStateError,
    AgentStateUnavailable,
    IllegalAgentTransition,
    PhoneNotRegistered,
)
from desk.feature import desk_feature
from followups import api as followups_api
from hotline.services import Services
from integrations import inbound as integrations_inbound
from ivr.twilio import routes as twilio_routes
from knowledge import api as knowledge_api
from ops.api import ops_feature
from privacy.api import privacy_feature
from qa.api import qa_feature
from recordings import api as recordings_api
from recordings.control_api import control_feature as recording_control_feature
from reports import api as reports_api
from reports.page import reports_page_feature
from routing import api as routing_api
from supervisor import api as supervisor_api
from supervisor.remote import remote_feature as supervisor_remote_feature
from tickets import api as tickets_api
from tickets import errors as ticket_errors
from tickets.service import TicketService
from tickets.workbench import workbench_feature

# The first matching row wins: a subclass before its base.
DOMAIN_ERRORS: tuple[DomainError, ...] = (
    DomainError(InvalidQuery, 422, "invalid_query"),
    DomainError(CustomerNotFound, 404, "not_found"),
    DomainError(NoticeNotFound, 404, "not_found"),
    DomainError(InvalidNotice, 422, "invalid_notice"),
    DomainError(IllegalAgentTransition, 409, "illegal_transition"),
    DomainError(PhoneNotRegistered, 409, "phone_offline"),
    DomainError(AgentStateUnavailable, 503, "routing_unavailable"),
    DomainError(AgentStateError, 422, None),  # its own code: unknown_reason, ...
    DomainError(ticket_errors.TicketNotFound, 404, "not_found"),
    DomainError(ticket_errors.ArticleNotFound, 404, "not_found"),
    DomainError(ticket_errors.IllegalTransition, 409, "illegal_transition"),
    DomainError(ticket_errors.TicketError, 422, "invalid_ticket"),
    DomainError(campaign_errors.CampaignNotFound, 404, "not_found"),
    DomainError(campaign_errors.DoNotCallNotFound, 404, "not_found"),
    DomainError(campaign_errors.IllegalCampaignTransition, 409, "illegal_transition"),
    DomainError(campaign_errors.InvalidCampaign, 422, "invalid_campaign"),
    DomainError(campaign_errors.CampaignError, 422, "invalid_campaign"),
)


def feature_routers(services: Services) -> list[APIRouter]:
    """The routers of the features other than the desk, in the order they are included."""
    extra: list[APIRouter] = list(services.features.routers)
    return [
        twilio_routes.router,
        tickets_api.router,
        customers_api.router,  # notices and the customer import
        knowledge_api.router,
        followups_api.router,
        integrations_inbound.router,  # signed by the external system, no user token
        routing_api.router,
        recordings_api.router,
        reports_api.router,
        supervisor_api.router,
        *extra,
    ]


def _tickets(services: Services) -> Any:
    return services.features.tickets or TicketService(services)


def create_app(services: Services) -> FastAPI:
    """The whole HTTP app: the desk (with its page at /desk/) and every feature's routes."""
    features = [
        desk_feature(services, _tickets(services)),
        HttpFeature(routers=feature_routers(services)),
        recording_control_feature(services),  # live calls' recording control
        call_control_feature(services),  # the agent's call controls (hold, transfer, ...)
        supervisor_remote_feature(services),  # the board and actions via the leader
        workbench_feature(services),  # /tickets/: departments' work orders, attachments
        reports_page_feature(services),  # /reports/: charts, exports, staffing forecast
        qa_feature(services),  # /qa/: quality inspection and agent evaluation
        admin_feature(services),  # /admin/: users, knowledge, calendar, audit log
        privacy_feature(services),  # customer data export and erasure (PIPL)
        campaigns_feature(services),  # /campaigns/: outbound campaigns, do-not-call list
        ops_feature(services),  # /healthz, /readyz, /metrics
    ]
    return create_platform_app(services, features, DOMAIN_ERRORS)


def ops_app(services: Services) -> FastAPI:
    """Only /healthz, /readyz and /metrics (a pbx process's ops port)."""
    return create_platform_app(services, [ops_feature(services)], DOMAIN_ERRORS)
