"""Simulated traffic for a center whose backend runs in other processes (the cluster demo,
bench/cluster.py): agents sign in through an `api` process's HTTP API, as their desks
would; callers dial the hotline through the sandbox Asterisk over an AMI session of
their own, pressing keys in the real IVR."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass

import httpx

from cti.commands import AmiPbxCommands, OriginatePurpose
from devtools.seed.staff import DEMO_PASSWORD
from devtools.services.asterisk import AsteriskInstance, ami_session
from kernel.config import Settings


async def sign_in_agents(
    base_url: str, extensions: Iterable[str], *, ready: bool = True, timeout: float = 30.0
) -> None:
    """agent<NN> for each extension 10NN signs in (ready); a 503 (no router leads right
    now, e.g. during a takeover) is tried again until `timeout`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for ext in extensions:
            user = f"agent{int(ext) - 1000:02d}"
            r = await http.post(
                "/api/auth/login", json={"username": user, "password": DEMO_PASSWORD}
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            deadline = time.monotonic() + timeout
            while True:
                r = await http.post("/api/agent/sign-in", json={"ready": ready}, headers=headers)
                if r.status_code != 503 or time.monotonic() > deadline:
                    r.raise_for_status()
                    break
                await asyncio.sleep(0.5)


@dataclass
class Callers:
    """Callers through the sandbox Asterisk: Local channels that dial the hotline and
    press `dtmf` in the IVR (the sandbox's hotline-test-caller context)."""

    settings: Settings
    pbx: AmiPbxCommands

    async def call(self, caller: str, dtmf: str = "ww5") -> str:
        uid = f"d{uuid.uuid4().hex[:16]}"
        await self.pbx.originate(
            f"Local/{self.settings.center.hotline_numbers[0]}@"
            f"{self.settings.pbx.dialplan.inbound_context}",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            exten="s",
            caller_id=f'"来电" <{caller}>',
            variables={"DTMF": dtmf},
        )
        return uid

    async def phones(
        self, behaviour: dict[str, tuple[float, float]], elsewhere: Collection[str] = ()
    ) -> None:
        """Each simulated agent phone: (seconds before it answers, seconds it talks).
        Phones in `elsewhere` are on another Asterisk node: they refuse calls here, as a
        phone registered on another node would (reached only through the trunk)."""
        for ext, (answer, talk) in behaviour.items():
            await self.pbx.set_var("", f"HOTLINE_TEST_{ext}_ANSWER_DELAY", f"{answer:.0f}")
            await self.pbx.set_var("", f"HOTLINE_TEST_{ext}_TALK_TIME", f"{talk:.0f}")
            await self.pbx.set_var("", f"HOTLINE_TEST_{ext}_FAIL", "21" if ext in elsewhere else "")


@contextlib.asynccontextmanager
async def callers(asterisk: AsteriskInstance, settings: Settings) -> AsyncIterator[Callers]:
    async with ami_session(asterisk) as client:
        yield Callers(settings, AmiPbxCommands(client))
