"""Customer data export and erasure (PIPL)."""

from __future__ import annotations

from agent_api.app import HttpFeature
from hotline.services import Services


def privacy_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature()
