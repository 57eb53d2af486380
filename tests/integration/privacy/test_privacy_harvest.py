"""An agent cannot harvest the customer base (desk/access.py, privacy/grants.py): outside
a call a file opens only from the agent's own recent search or with a stated reason
(audited); more reads than privacy allows are refused (429) and the supervisors' board
shows an alert. Through create_app, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from kernel.audit import AUDIT
from kernel.clock import FakeClock
from supervisor.live_service import LiveService
from tests.harness.http_app import (
    add_customer,
    add_user,
    api_client,
    api_services,
    bearer,
    login,
)
from tests.support import eventually

pytestmark = pytest.mark.integration
NOW = 1_900_000_000.0


@dataclass
class World:
    services: Services
    client: httpx.AsyncClient
    clock: FakeClock
    ids: list[int]


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    clock = FakeClock(NOW)
    env = {
        "HOTLINE_PRIVACY__READS_PER_WINDOW": "5",
        "HOTLINE_PRIVACY__READ_WINDOW_MINUTES": "10",
        "HOTLINE_PRIVACY__SEARCH_GRANT_MINUTES": "5",
    }
    async with api_services(db_url, clock=clock, env=env) as services:
        await add_user(services, "agent01", Role.AGENT, "1001", display_name="李娜")
        await add_user(services, "agent02", Role.AGENT, "1002")
        await add_user(services, "supervisor", Role.SUPERVISOR, "1901")
        ids = []
        for i, name in enumerate(("张伟", "王伟明", "李雷", "韩梅梅", "赵六", "钱七")):
            customer = await add_customer(services, name, f"1390000{i:04d}")
            assert customer.id is not None
            ids.append(customer.id)
        live = LiveService(services, min_interval=0.1)
        await live.start()
        try:
            async with api_client(create_app(services)) as client:
                yield World(services, client, clock, ids)
        finally:
            await live.stop()


async def reads(services: Services) -> list[tuple[str, str, str | None, str | None]]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT.c.actor_name, AUDIT.c.object_id, AUDIT.c.detail)
            .where(AUDIT.c.action == "customer.read")
            .order_by(AUDIT.c.id)
        )
        return [(r[0], r[1], r[2].get("via"), r[2].get("reason")) for r in rows]


async def test_given_an_agent_walking_ids_then_every_file_is_refused(world: World) -> None:
    token = bearer(await login(world.client, "agent01"))
    for cid in [*world.ids, 999_999]:
        r = await world.client.get(f"/api/customers/{cid}", headers=token)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "forbidden"
        assert "search" in r.json()["message"]
        assert "reason" in r.json()["message"]
        r = await world.client.get(f"/api/customers/{cid}/calls", headers=token)
        assert r.status_code == 403
    assert await reads(world.services) == []


async def test_given_an_own_search_then_its_hits_open_for_a_while_and_others_do_not(
    world: World,
) -> None:
    mine = bearer(await login(world.client, "agent01"))
    other = bearer(await login(world.client, "agent02"))
    hits = await world.client.get("/api/customers", params={"q": "伟"}, headers=mine)
    assert sorted(h["name"] for h in hits.json()) == ["张伟", "王伟明"]
    zhang, wang, li = world.ids[0], world.ids[1], world.ids[2]
    for cid in (zhang, wang):
        r = await world.client.get(f"/api/customers/{cid}", headers=mine)
        assert r.status_code == 200, r.text
    assert (await world.client.get(f"/api/customers/{li}", headers=mine)).status_code == 403
    # Another agent's search opens nothing for this one, and the reverse.
    assert (await world.client.get(f"/api/customers/{zhang}", headers=other)).status_code == 403
    # After privacy.search_grant_minutes the search no longer opens the file.
    world.clock.advance(dt.timedelta(minutes=6).total_seconds())
    assert (await world.client.get(f"/api/customers/{zhang}", headers=mine)).status_code == 403
    assert await reads(world.services) == [
        ("agent01", str(zhang), "search", None),
        ("agent01", str(wang), "search", None),
    ]


async def test_given_a_stated_reason_then_the_file_opens_and_the_reason_is_audited(
    world: World,
) -> None:
    token = bearer(await login(world.client, "agent01"))
    cid = world.ids[3]
    r = await world.client.get(
        f"/api/customers/{cid}", params={"reason": "客户来信要求回电 #2031"}, headers=token
    )
    assert r.status_code == 200, r.text
    blank = await world.client.get(f"/api/customers/{cid}", params={"reason": "  "}, headers=token)
    assert blank.status_code == 403
    calls = await world.client.get(
        f"/api/customers/{cid}/calls", params={"reason": "核对缴费记录"}, headers=token
    )
    assert calls.status_code == 200, calls.text
    async with world.services.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(AUDIT.c.detail).where(AUDIT.c.action == "customer.calls"))
        ).one()
    assert row.detail == {"via": "reason", "reason": "核对缴费记录"}
    assert await reads(world.services) == [
        ("agent01", str(cid), "reason", "客户来信要求回电 #2031")
    ]


async def test_given_too_many_reads_then_429_and_the_supervisors_board_shows_an_alert(
    world: World,
) -> None:
    token = bearer(await login(world.client, "agent01"))
    why = {"reason": "批量核对"}
    for cid in world.ids[:5]:  # privacy.reads_per_window = 5
        r = await world.client.get(f"/api/customers/{cid}", params=why, headers=token)
        assert r.status_code == 200, r.text
    refused = await world.client.get(f"/api/customers/{world.ids[5]}", params=why, headers=token)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "too_many_reads"
    assert "supervisor" in refused.json()["message"]
    again = await world.client.get(f"/api/customers/{world.ids[0]}", params=why, headers=token)
    assert again.status_code == 429
    boss = bearer(await login(world.client, "supervisor"))

    async def alerted() -> list[dict[str, object]]:
        r = await world.client.get("/api/supervisor/live", headers=boss)
        return [a for a in r.json()["alerts"] if a["kind"] == "customer.read_volume"]

    async def seen() -> bool:
        return bool(await alerted())

    await eventually(seen, 10, "the read-volume alert on the supervisor's board")
    (alert,) = await alerted()  # once per window, not per refused read
    assert (alert["agent"], alert["agent_name"]) == ("agent01", "李娜")
    assert (alert["reads"], alert["window_minutes"]) == (5, 10)
    async with world.services.engine.connect() as conn:
        throttled = (
            await conn.execute(
                sa.select(sa.func.count()).where(AUDIT.c.action == "customer.read_throttled")
            )
        ).scalar_one()
    assert throttled == 2
    # The window passes: reads open again.
    world.clock.advance(dt.timedelta(minutes=11).total_seconds())
    r = await world.client.get(f"/api/customers/{world.ids[5]}", params=why, headers=token)
    assert r.status_code == 200, r.text


async def test_given_searches_walking_the_base_then_they_count_and_are_throttled(
    world: World,
) -> None:
    token = bearer(await login(world.client, "agent01"))
    for q in ("张", "王", "李", "韩", "赵"):  # privacy.reads_per_window = 5
        r = await world.client.get("/api/customers", params={"q": q}, headers=token)
        assert r.status_code == 200, r.text
    r = await world.client.get("/api/customers", params={"q": "钱"}, headers=token)
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "too_many_reads"
    boss = bearer(await login(world.client, "supervisor"))
    for q in ("张", "王", "李", "韩", "赵", "钱"):  # supervisors are not counted
        r = await world.client.get("/api/customers", params={"q": q}, headers=boss)
        assert r.status_code == 200, r.text
