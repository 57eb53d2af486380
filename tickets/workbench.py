"""The work-order workbench: the /tickets/ page and its API (attachments, print)."""

from __future__ import annotations

from agent_api.app import HttpFeature
from hotline.services import Services


def workbench_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature()
