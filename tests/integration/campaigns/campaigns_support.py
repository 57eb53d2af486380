"""What the campaigns API tests share: a center on a migrated database (SQLite or
PostgreSQL) served by create_app, a supervisor's and an admin's token, customers of two
districts, and helpers that move contacts as the engine would."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from db.models import Role, metadata
from hotline.http import create_app
from hotline.services import Services
from tests.harness.http_app import add_customer, add_user, api_client, api_services, login

CONTACTS = metadata.tables["campaign_contacts"]
ATTEMPTS = metadata.tables["campaign_attempts"]
AUDIT = metadata.tables["audit_log"]
TEXT = "{name}您好，您的欠费为{arrears}，请及时缴纳。"
MESSAGE = {"text": TEXT}
SH = dt.timezone(dt.timedelta(hours=8))
T = dt.datetime(2026, 12, 8, 10, 0, tzinfo=SH)  # a Tuesday inside the calling window


@dataclass
class Center:
    services: Services
    client: httpx.AsyncClient
    boss: str  # supervisor token
    admin: str

    def h(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.boss}"}

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.h())

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers=self.h())


@contextlib.asynccontextmanager
async def center_of(db_url: str) -> AsyncIterator[Center]:
    async with api_services(db_url) as services:
        await add_user(services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
        await add_user(services, "root", Role.ADMIN, display_name="管理员")
        async with api_client(create_app(services)) as client:
            yield Center(services, client, await login(client, "boss"), await login(client, "root"))


async def customers(services: Services) -> None:
    """滨江区: 3 customers with arrears above 100 (one tier A), 1 without; 西湖区: 2."""
    await add_customer(services, "王芳", "13900000001", account="1001", arrears="128.50", tier="A")
    await add_customer(services, "李强", "13900000002", account="1002", arrears="300.00")
    await add_customer(services, "张伟", "13900000003", account="1003", arrears="150.00")
    await add_customer(services, "赵敏", "13900000004", account="1004", arrears="20.00")
    for i, name in ((5, "陈静"), (6, "刘洋")):
        await add_customer(
            services, name, f"1390000000{i}", account=f"100{i}", arrears="500.00", district="西湖区"
        )


async def create(c: Center, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    payload = {"name": "欠费提醒 12月", "kind": "message", "script": MESSAGE, **(body or {})}
    r = await c.post("/api/campaigns", payload)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def contact_ids(services: Services, campaign_id: int) -> dict[str, int]:
    """{number: contact id}."""
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(CONTACTS.c.number, CONTACTS.c.id).where(CONTACTS.c.campaign_id == campaign_id)
        )
        return {n: int(i) for n, i in rows}


async def dial(
    services: Services,
    campaign_id: int,
    contact_id: int,
    outcome: str,
    *,
    at: dt.datetime,
    state: str | None = None,
    **contact: Any,
) -> None:
    """One attempt of a contact as the engine records it: the attempt row and the
    contact's state, attempts and last outcome (and what the call flow wrote)."""
    async with services.engine.begin() as conn:
        n = (
            await conn.execute(
                sa.select(sa.func.count()).where(ATTEMPTS.c.contact_id == contact_id)
            )
        ).scalar_one()
        await conn.execute(
            ATTEMPTS.insert().values(
                campaign_id=campaign_id, contact_id=contact_id, attempt=n + 1,
                linkedid=f"hlcp-{contact_id}-{n + 1}", started_at=at, ended_at=at,
                answered_at=at if outcome in ("answered", "hangup") else None, outcome=outcome,
            )
        )  # fmt: skip
        final = state or ("done" if outcome == "answered" else "pending")
        await conn.execute(
            CONTACTS.update()
            .where(CONTACTS.c.id == contact_id)
            .values(state=final, attempts=n + 1, last_outcome=outcome, updated_at=at, **contact)
        )


async def audit_actions(services: Services, object_id: int) -> list[str]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT.c.action)
            .where(AUDIT.c.object_type == "campaign", AUDIT.c.object_id == str(object_id))
            .order_by(AUDIT.c.id)
        )
        return [a for (a,) in rows]
