"""The campaigns page (/campaigns/) and its API (supervisors, admins)."""

from __future__ import annotations

from agent_api.app import HttpFeature
from hotline.services import Services


def campaigns_feature(services: Services) -> HttpFeature:
    return HttpFeature()
