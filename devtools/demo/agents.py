"""Simulated agents: agent02.. sign in and go ready on simulated phones (Local channels in
the sandbox's hotline-test-agent context that ring, answer after a moment and talk for a
while). agent01 is left for the person trying the demo."""

from __future__ import annotations

import logging
import random
from typing import Any

from hotline.services import Services

log = logging.getLogger("devtools.demo")


class AgentSimulator:
    def __init__(
        self, services: Services, *, first: int = 2, count: int = 8, seed: int = 2
    ) -> None:
        self._services = services
        self._extensions = [str(1000 + n) for n in range(first, first + count)]
        self._rng = random.Random(seed)

    async def start(self) -> None:
        routing: Any = self._services.features.routing
        if routing is None:
            log.warning("routing is not available: simulated agents stay signed out")
            return
        for ext in self._extensions:
            try:
                await routing.demo_sign_in(ext)
            except Exception as exc:  # a missing seeded agent must not stop the demo
                log.warning("simulated agent %s not signed in: %s", ext, exc)

    async def stop(self) -> None:
        return None

    def phone_behaviour(self) -> dict[str, str]:
        """Dialplan globals for the simulated phones (answer delay, talk time)."""
        out = {}
        for ext in self._extensions:
            out[f"HOTLINE_TEST_{ext}_ANSWER_DELAY"] = f"{self._rng.uniform(1, 4):.0f}"
            out[f"HOTLINE_TEST_{ext}_TALK_TIME"] = f"{self._rng.uniform(20, 60):.0f}"
        return out
