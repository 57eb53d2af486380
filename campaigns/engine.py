"""CampaignEngine: the leader's duty that dials campaign contacts (skeleton)."""

from __future__ import annotations

from hotline.services import Services


class CampaignEngine:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
