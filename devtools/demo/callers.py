"""Simulated callers: Local channels into the hotline that press keys like people do.

Each caller is an Originate of Local/<hotline>@hotline-inbound whose other half runs the
sandbox's hotline-demo-caller context (SendDTMF, then speak a prompt again and again, then
hang up after a while). Caller ids
are taken from real customer phones, so the IVR identifies most callers by caller id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from cti.commands import OriginatePurpose, PbxError
from db.models import metadata
from hotline.services import Services

log = logging.getLogger("devtools.demo")


@dataclass(frozen=True)
class Scenario:
    name: str
    dtmf: str  # keys, with 'w' = half-second pause (SendDTMF syntax)
    hangup_after: tuple[float, float]  # seconds, uniform range
    weight: float


# Keyed to the IVR menu in config.yaml (main: 1 balance, 2 fault, 3 notices, 4 callback,
# 5 business, 6 complaint, 0 agent). "w" = half a second: the first key falls while the
# main menu is being read (the IVR takes keys during its prompts).
_MENU = "w" * 8
SCENARIOS: list[Scenario] = [
    Scenario("hears the balance (self-service)", f"{_MENU}1", (60, 120), 3),
    Scenario("balance, then an agent", f"{_MENU}1{'w' * 24}1", (60, 150), 2),
    Scenario("gas leak", f"{_MENU}2www1", (60, 150), 1),
    Scenario("faulty meter report", f"{_MENU}2www3", (40, 90), 2),
    Scenario("outage notices", f"{_MENU}3", (40, 90), 1),
    Scenario("asks for a callback", f"{_MENU}4", (20, 40), 1),
    Scenario("new connection", f"{_MENU}5", (30, 90), 1),
    Scenario("complaint", f"{_MENU}6", (30, 90), 1),
    Scenario("operator", f"{_MENU}0", (30, 90), 2),
    Scenario("hangs up in the menu", "", (3, 8), 1),
]


class CallerSimulator:
    def __init__(
        self, services: Services, *, hotline: str, interval: tuple[float, float], seed: int = 1
    ) -> None:
        self._services = services
        self._hotline = hotline
        self._interval = interval
        self._rng = random.Random(seed)
        self._phones: list[tuple[str, str]] = []
        self._task: asyncio.Task[None] | None = None
        self.placed = 0

    async def start(self) -> None:
        phones = metadata.tables["customer_phones"]
        customers = metadata.tables["customers"]
        async with self._services.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(phones.c.number, customers.c.name)
                .join(customers, customers.c.id == phones.c.customer_id)
                .limit(500)
            )
            self._phones = [(r[0], r[1]) for r in rows]
        self._task = asyncio.create_task(self._run(), name="demo-callers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._rng.uniform(*self._interval))
            try:
                await self.place_call()
            except PbxError as exc:
                log.warning("demo caller not placed: %s", exc)

    async def place_call(self, scenario: Scenario | None = None) -> str:
        pbx = self._services.pbx
        if pbx is None:
            raise PbxError("no PBX link")
        rng = self._rng
        scenario = scenario or rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
        if self._phones and rng.random() < 0.85:
            number, name = rng.choice(self._phones)
        else:
            number, name = f"1{rng.randrange(30, 99)}{rng.randrange(10**8):08d}", "未知来电"
        uid = f"demo{uuid.uuid4().hex[:12]}"
        await pbx.originate(
            f"Local/{self._hotline}@{self._services.settings.pbx.dialplan.inbound_context}",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-demo-caller",  # speaks a prompt once connected
            caller_id=f'"{name}" <{number}>',
            variables={
                "DTMF": scenario.dtmf,
                "DTMF_DELAY": "1",
                "HANGUP_AFTER": f"{rng.uniform(*scenario.hangup_after):.0f}",
            },
        )
        self.placed += 1
        log.info("demo caller %s (%s): %s", number, name, scenario.name)
        return uid
