"""Recording control on demand, and listening in, across processes (issue 13): with `recording.mode: on_demand` nothing is
recorded on answer; the agent on the call starts, pauses, resumes and stops the recording
from the desk's API, a supervisor may too, another agent may not; every step is audited
and the call's record lists them with who and when and the paused time; the file exists
and is shorter than the call.

Through the real Runtime on the sandbox Asterisk: one process (role all, in-process bus),
and two processes' worth of Runtimes sharing Redis (role pbx leading, role api serving
the HTTP API: the request crosses the bus to the leader's recordings service).
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
import sqlalchemy as sa

from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from kernel.config import Settings
from recordings.media import wav_duration
from recordings.policy import host_path
from tests.integration.hotline.support import (
    Backend,
    asterisk_side,
    fresh_redis,
    staffed_center,
)
from tests.support import eventually

pytestmark = pytest.mark.integration
AGENTS = {"1001": {"business": 8}, "1002": {"complaint": 8}}
RECORDINGS = metadata.tables["recordings"]
USERS = metadata.tables["users"]
AUDIT = metadata.tables["audit_log"]


def center(
    asterisk: AsteriskInstance, db_url: str, redis_url: str | None
) -> contextlib.AbstractAsyncContextManager[tuple[Settings, Services, Backend]]:
    # on_demand: nothing recorded on answer (files: the sandbox's monitor dir).
    env = {"HOTLINE_RECORDING__MODE": "on_demand"}
    return staffed_center(asterisk, db_url, redis_url, AGENTS, **env)


async def control(b: Backend, call: str, action: str, user: str) -> httpx.Response:
    return await b.http.post(f"/api/calls/{call}/recording/{action}", headers=await b.as_user(user))


@pytest.mark.parametrize(
    ("db_backend", "processes"),
    [("sqlite", "one"), ("postgresql", "two")],
)
async def test_given_on_demand_recording_when_the_agent_controls_it_then_audited_and_on_the_record(
    asterisk: AsteriskInstance,
    db_url: str,
    db_backend: str,
    processes: str,
    request: pytest.FixtureRequest,
) -> None:
    redis_url = None
    if processes == "two":
        redis_url = await fresh_redis(request.getfixturevalue("redis_url"), db=15)
    async with (
        center(asterisk, db_url, redis_url) as (settings, services, b),
        asterisk_side(asterisk, settings) as ast,
    ):
        await b.post("/api/agent/sign-in", "agent1001", {"ready": True})
        await b.post("/api/agent/sign-in", "agent1002", {"ready": True})
        call = await ast.call("13700000001", "ww5")  # business: agent 1001

        async def talking() -> bool:
            agent = await b.agent("1001")
            return bool(agent["state"] == "on_call" and agent["linkedid"] == call)

        await eventually(talking, 60, "agent 1001 on the call")

        # on_demand: nothing recorded on answer.
        r = await control(b, call, "pause", "agent1001")
        assert (r.status_code, r.json()["error"]) == (409, "no_active_recording"), r.text
        # Another agent may not touch this call.
        r = await control(b, call, "start", "agent1002")
        assert r.status_code == 403, r.text

        r = await control(b, call, "start", "agent1001")
        assert r.status_code == 200, r.text
        started = r.json()
        assert started["state"] == "recording"
        rid = started["recording_id"]
        r = await control(b, call, "pause", "agent1001")
        assert r.json() == {"call_id": call, "recording_id": rid, "state": "paused"}
        # Paused for a second and a half (the time itself is what the record must
        # show), then the supervisor resumes it; two more seconds recorded.
        await asyncio.sleep(1.5)
        r = await control(b, call, "resume", "supervisor")
        assert r.json()["state"] == "recording", r.text
        await asyncio.sleep(2.0)
        r = await control(b, call, "stop", "agent1001")
        assert r.json() == {"call_id": call, "recording_id": rid, "state": "stopped"}
        await ast.hang_up(call)

        async def on_record() -> bool:
            detail = await b.get(f"/api/calls/{call}", "supervisor")
            recordings = detail["recordings"]
            return bool(recordings) and recordings[0]["state"] not in ("recording", "paused")

        await eventually(on_record, 30, "the recording completed on the call's record")
        detail = await b.get(f"/api/calls/{call}", "supervisor")
        (recording,) = detail["recordings"]
        assert recording["recording_id"] == rid
        steps = [(s["action"], s["by"]) for s in recording["steps"]]
        assert steps == [
            ("start", "agent1001"),
            ("pause", "agent1001"),
            ("resume", "supervisor"),
            ("stop", "agent1001"),
        ]
        assert recording["paused_seconds"] >= 1.0
        assert recording["state"] == "completed"
        async with services.engine.connect() as conn:
            relative = await conn.scalar(sa.select(RECORDINGS.c.path).where(RECORDINGS.c.id == rid))
        path = host_path(settings.recording, str(relative))
        assert path.exists()
        assert wav_duration(path) > 1.0


@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_given_an_api_process_when_a_supervisor_listens_in_then_the_leader_rings_and_spies(
    asterisk: AsteriskInstance, db_url: str, request: pytest.FixtureRequest
) -> None:
    """Listening in from an `api` process (no router, no AMI link there): the request
    crosses the bus to the leader (supervisor/remote.py), which rings the supervisor's
    phone and runs ChanSpy on the agent's call; the session is listed and hung up from
    the api process too, and each step is audited with the supervisor's name."""
    redis_url = await fresh_redis(request.getfixturevalue("redis_url"), db=15)
    async with (
        center(asterisk, db_url, redis_url) as (settings, services, b),
        asterisk_side(asterisk, settings) as ast,
    ):
        assert b.runtime.role == "api"
        async with services.engine.begin() as conn:  # the supervisor's own phone
            await conn.execute(
                sa.update(USERS).where(USERS.c.username == "supervisor").values(extension="1009")
            )
        await b.post("/api/agent/sign-in", "agent1001", {"ready": True})
        call = await ast.call("13700000001", "ww5")

        async def talking() -> bool:
            agent = await b.agent("1001")
            return bool(agent["state"] == "on_call" and agent["linkedid"] == call)

        await eventually(talking, 60, "agent 1001 on the call")
        agent_id = (await b.agent("1001"))["agent_id"]
        session = await b.post(
            f"/api/supervisor/agents/{agent_id}/spy", "supervisor", {"mode": "listen"}
        )
        assert session["agent_extension"] == "1001"

        async def spying() -> bool:
            sessions = await b.get("/api/supervisor/spy")
            return any(s["session_id"] == session["session_id"] and s["active"] for s in sessions)

        await eventually(spying, 30, "the supervisor's phone answered and spying")
        r = await b.http.delete(
            f"/api/supervisor/spy/{session['session_id']}", headers=await b.as_user("supervisor")
        )
        assert r.status_code == 204, r.text
        async with services.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(AUDIT.c.action, AUDIT.c.actor_name)
                    .where(AUDIT.c.action.in_(["supervisor.listen", "supervisor.spy_stop"]))
                    .order_by(AUDIT.c.id)
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("supervisor.listen", "supervisor"),
            ("supervisor.spy_stop", "supervisor"),
        ]
        await ast.hang_up(call)
