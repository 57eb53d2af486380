"""What the call-control tests (integration and browser) share: the agent's call through
the API, and the call's one record once it ended, with its timeline and audit rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from db.models import metadata
from hotline.services import Services
from tests.integration.hotline.support import Backend
from tests.support import eventually

CALLS = metadata.tables["calls"]
EVENTS = metadata.tables["call_events"]
AUDIT = metadata.tables["audit_log"]


async def on_call(b: Backend, ext: str, call: str, timeout: float = 60) -> None:
    """The router has agent `ext` on `call` (offered, with its screen-pop, and answered)."""

    async def talking() -> bool:
        agent = await b.agent(ext)
        return bool(agent["state"] == "on_call" and agent["linkedid"] == call)

    await eventually(talking, timeout, f"agent {ext} on call {call}")


async def act(b: Backend, user: str, operation: str, **body: Any) -> dict[str, Any]:
    r = await b.http.post(
        f"/api/agent/call/{operation}", json=body or None, headers=await b.as_user(user)
    )
    assert r.status_code == 200, f"{operation}: {r.status_code} {r.text}"
    result: dict[str, Any] = r.json()
    return result


async def call_state(b: Backend, user: str) -> dict[str, Any]:
    result: dict[str, Any] = await b.get("/api/agent/call", user)
    return result


async def wait_state(b: Backend, user: str, wanted: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await call_state(b, user))
        return seen.get("state") == wanted

    await eventually(reached, 20, f"{user}'s call {wanted} (last: {seen})")
    return seen


async def timeline(services: Services, call: str) -> list[str]:
    async with services.engine.connect() as conn:
        row = await conn.scalar(sa.select(CALLS.c.id).where(CALLS.c.linkedid == call))
        if row is None:
            return []
        kinds = await conn.execute(
            sa.select(EVENTS.c.kind).where(EVENTS.c.call_id == row).order_by(EVENTS.c.seq)
        )
        return [str(k) for k in kinds.scalars()]


async def ended_record(services: Services, call: str) -> dict[str, Any]:
    """The call's one record, once it ended (never two records for one call)."""
    found: dict[str, Any] = {}

    async def ended() -> bool:
        async with services.engine.connect() as conn:
            rows = (await conn.execute(sa.select(CALLS).where(CALLS.c.linkedid == call))).all()
        assert len(rows) <= 1, f"{len(rows)} records for one call"
        if rows and rows[0]._mapping["ended_at"] is not None:
            found.update(rows[0]._mapping)
            return True
        return False

    await eventually(ended, 30, f"call {call} ended on its record")
    return found


async def record(services: Services, call: str) -> dict[str, Any]:
    """`ended_record` with its timeline's event kinds and the call.* audit rows
    (action, outcome)."""
    found = await ended_record(services, call)
    found["timeline"] = await timeline(services, call)
    async with services.engine.connect() as conn:
        audited = await conn.execute(
            sa.select(AUDIT.c.action, AUDIT.c.detail).where(AUDIT.c.object_id == call)
        )
        found["audit"] = [
            (a, d.get("outcome")) for a, d in audited.all() if str(a).startswith("call.")
        ]
    return found
