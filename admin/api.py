"""The /admin/ page and the administration API."""

from __future__ import annotations

from agent_api.app import HttpFeature
from hotline.services import Services


def admin_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature()
