"""The README's "Agents on their own phones" commands, run as written (bash + curl) against
a started backend: the agent API under a real uvicorn on a loopback port, with the
router in the same process (on the fake PBX: nothing is dialled). Between the two
blocks the agent takes a call, as the CTI bridge would report it. The refusals the
README names are checked too."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from cti.fake_pbx import FakePbx
from db.models import AgentSkill, User
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import SystemClock
from routing.service import RoutingService
from tests.harness.http_app import api_server, api_services
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]

README = Path(__file__).resolve().parents[3] / "README.md"
SECTION = "### Agents on their own phones"
CALLER = "Local/95777@hotline-inbound-00000001;2"


def readme_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ")]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


async def add_agent01(services: Services) -> int:
    """As `hotline-dev seed` makes agent01 (password hotline-demo, extension 1001)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    async with services.sessions() as s:
        user = User(
            username="agent01",
            display_name="坐席01",
            extension="1001",
            password_hash=cheap.hash("hotline-demo"),
        )
        s.add(user)
        await s.flush()
        assert user.id is not None
        s.add(AgentSkill(user_id=user.id, skill="billing", level=8))
        await s.commit()
        return user.id


def states(output: str) -> list[tuple[str, Any]]:
    """(state, reason) of every JSON answer the commands printed."""
    found = []
    for match in re.finditer(r"\{[^{}]*\}", output):
        answer = json.loads(match.group(0))
        if "state" in answer:
            found.append((answer["state"], answer["reason"]))
    return found


async def publish(services: Services, kind: str, **event: Any) -> None:
    await services.bus.publish("call", {"type": kind, "at": time.time(), **event})


async def test_the_readme_curl_commands_sign_an_agent_in_and_out(db_url: str) -> None:
    # The third block (call controls) needs a call: tests/integration/callcontrol/ runs them.
    first, second, *_ = readme_blocks()
    async with api_services(db_url, clock=SystemClock()) as services:
        agent = await add_agent01(services)
        pbx = FakePbx()
        services.pbx = pbx
        router = RoutingService(services)  # features.routing: the API commands it
        await router.start()
        try:
            async with api_server(create_app(services)) as base:
                # Both blocks in one shell (the second uses the first's token); between
                # them the shell waits for a line on stdin while the agent takes a call.
                script = (
                    f"set -euo pipefail\n{first}\necho '--- first block done'\nread -r _\n{second}"
                )
                shell = await asyncio.create_subprocess_exec(
                    "bash",
                    "-c",
                    script,
                    env={"HOTLINE": base, "PATH": "/usr/bin:/bin"},
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                assert shell.stdin is not None
                assert shell.stdout is not None
                out = b""
                while b"--- first block done" not in out:
                    line = await asyncio.wait_for(shell.stdout.readline(), 30)
                    assert line, out + await shell.stderr.read() if shell.stderr else out
                    out += line
                assert states(out.decode()) == [
                    ("not_ready", None),  # signed in on 1001, not ready yet
                    ("available", None),
                    ("not_ready", "break"),
                    ("not_ready", "break"),  # GET state
                    ("available", None),
                ]
                assert router.agent(agent)["extension"] == "1001"

                # A call: queued, offered to agent01 (Asterisk would ring 1001), answered, over.
                await publish(
                    services,
                    "call.queued",
                    call_id="t-1",
                    queue="hold-billing",
                    channel=CALLER,
                    call={"skill": "billing", "tier": "B", "queued_at": time.time()},
                )
                await eventually(lambda: bool(pbx.commands), 5, "1001 is offered the call")
                await publish(services, "call.answered", call_id="t-1", agent="1001", call={})
                await publish(services, "call.ended", call_id="t-1", call={})
                await eventually(
                    lambda: router.agent(agent)["state"] == "wrap_up", 5, "agent01 wraps up"
                )

                shell.stdin.write(b"\n")
                rest, err = await asyncio.wait_for(shell.communicate(), 30)
                assert shell.returncode == 0, err.decode()
                assert states(rest.decode()) == [("available", None), ("logged_out", None)]
                assert router.agent(agent)["state"] == "logged_out"

                # The refusals the README names.
                async with httpx.AsyncClient(base_url=base) as http:
                    r = await http.post(
                        "/api/auth/login", json={"username": "agent01", "password": "hotline-demo"}
                    )
                    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
                    r = await http.post(
                        "/api/agent/not-ready", headers=auth, json={"reason": "break"}
                    )
                    assert (r.status_code, r.json()["error"]) == (422, "not_signed_in")
                    r = await http.post("/api/agent/not-ready", headers=auth, json={"reason": "x"})
                    assert (r.status_code, r.json()["error"]) == (422, "unknown_reason")
                    r = await http.post("/api/agent/ready", headers=auth)  # signs in as well
                    assert (r.status_code, r.json()["state"]) == (200, "available")
                    assert r.json()["extension"] == "1001"
                    r = await http.post("/api/agent/wrap-up", headers=auth, json={})
                    assert (r.status_code, r.json()["error"]) == (409, "illegal_transition")
        finally:
            await router.stop()
