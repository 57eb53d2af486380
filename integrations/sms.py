"""Text messages to customers through an SMS gateway (skeleton)."""

from __future__ import annotations

from hotline.services import Services


class SmsGateway:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
