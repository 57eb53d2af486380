"""The phone an agent takes calls on (issue 14): with the browser phone chosen
(POST /api/agent/phone), the agent's presence is that phone's registration on the real
Asterisk. Not registered: going ready is refused (409 phone_offline). Registered: ready.
Registration gone: the agent is made not ready (phone_offline) within seconds and is
offered nothing. A real SIP phone from SIPp registers as the browser endpoint 1004-web, answers Asterisk's qualify and
unregisters (the browser's own registration over WebSocket: tests/browser/)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devtools.services.asterisk import AsteriskInstance
from tests.integration.hotline.support import asterisk_side, staffed_center
from tests.support import eventually

pytestmark = pytest.mark.integration
SIPP = Path(__file__).resolve().parents[2] / "fixtures" / "sipp"
SESSION, OPTIONS = SIPP / "phone-session.xml", SIPP / "options-ok.xml"
AGENTS = {"1004": {"business": 8}}
REGISTERED_MS = 8000


def phone_session(asterisk: AsteriskInstance) -> str:
    done = asterisk.sipp(
        *("-sf", SESSION.name, "-oocsf", OPTIONS.name, "-set", "ext", "1004-web"),
        *("-au", "1004-web", "-ap", asterisk.sip_password, "-m", "1", "-d", str(REGISTERED_MS)),
        *("-timeout", "30", "-timeout_error"),
        files=[SESSION, OPTIONS],
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_given_the_browser_phone_when_it_registers_and_goes_away_then_presence_follows(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with (
        staffed_center(asterisk, db_url, None, AGENTS) as (settings, services, b),
        asterisk_side(asterisk, settings),
    ):
        routing = services.features.routing
        assert routing is not None
        await b.post("/api/agent/sign-in", "agent1004", {"ready": False})
        state = await b.post("/api/agent/phone", "agent1004", {"phone": "browser"})
        assert state["state"] == "not_ready"
        r = await b.http.post("/api/agent/ready", headers=await b.as_user("agent1004"))
        assert (r.status_code, r.json()["error"]) == (409, "phone_offline"), r.text

        session = asyncio.create_task(asyncio.to_thread(phone_session, asterisk))

        async def may_go_ready() -> bool:
            r = await b.http.post("/api/agent/ready", headers=await b.as_user("agent1004"))
            return r.status_code == 200

        await eventually(may_go_ready, REGISTERED_MS / 2000, "ready once the phone registered")
        agent = routing.router.by_extension["1004"]
        assert agent.phone == "PJSIP/1004-web"
        assert agent.offerable
        assert routing.ctx.agent_dial("1004", None) == "PJSIP/1004-web"

        await session  # ... and then it unregistered: the page was closed

        async def not_ready() -> bool:
            a = await b.agent("1004")
            return bool(a["state"] == "not_ready" and a["reason"] == "phone_offline")

        await eventually(not_ready, 10, "not ready once the phone went away")
        assert agent.state.value == "not_ready"  # so never offerable

        # Back to the desk phone: the configured endpoint, presence as it reports.
        await b.post("/api/agent/phone", "agent1004", {"phone": "desk"})
        assert routing.router.by_extension["1004"].phone is None
        assert routing.ctx.agent_dial("1004", None) is None
