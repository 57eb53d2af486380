"""The /reports/ page and the staffing forecast API."""

from __future__ import annotations

from agent_api.app import HttpFeature
from hotline.services import Services


def reports_page_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature()
