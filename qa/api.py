"""The /qa/ page and the quality-inspection API."""

from __future__ import annotations

from agent_api.app import HttpFeature
from hotline.services import Services


def qa_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature()
