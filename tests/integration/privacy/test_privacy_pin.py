"""The IVR PIN API (privacy/pin_api.py) through create_app, SQLite and PostgreSQL: roles,
4-6 digits or 422, a hash stored (never the digits), audited, cleared by DELETE; and the
IVR directory hands the hash to the interpreter."""

from __future__ import annotations

from sqlmodel import col, select

from db.models import AuditLog, Customer, Role
from hotline.http import create_app
from ivr.directory import DbDirectory
from kernel.pins import verify_pin
from privacy import pin_api
from tests.harness.http_app import (
    add_customer,
    add_user,
    api_client,
    api_services,
    bearer,
    issuer_for,
)
from tests.harness.roles import Route, paths_of, role_matrix, routes_of, token_for

MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
PATH = "/api/privacy/customers/{customer_id}/pin"
TABLE = [
    Route("PUT", PATH, MANAGERS, {"pin": "1234"}),
    Route("DELETE", PATH, MANAGERS),
]


def test_every_route_is_in_the_table() -> None:
    assert routes_of(pin_api.router) == paths_of(TABLE)


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE, customer_id=999) == []


async def test_set_check_and_clear_a_pin(db_url: str) -> None:
    async with api_services(db_url) as services:
        sup = await add_user(services, "sup01", Role.SUPERVISOR)
        token = token_for(issuer_for(services), sup, Role.SUPERVISOR)
        customer = await add_customer(services, "王芳", "13900000001")
        assert customer.id is not None
        url = PATH.format(customer_id=customer.id)
        async with api_client(create_app(services)) as client:
            for bad in ("123", "1234567", "12a4", "", 1234):
                r = await client.put(url, json={"pin": bad}, headers=bearer(token))
                assert r.status_code == 422, (bad, r.text)
                assert set(r.json()) >= {"error", "message"}
            r = await client.put(
                PATH.format(customer_id=99999), json={"pin": "1234"}, headers=bearer(token)
            )
            assert r.status_code == 404
            r = await client.put(url, json={"pin": "246810"}, headers=bearer(token))
            assert r.status_code == 200
            assert r.json() == {
                "customer_id": customer.id,
                "has_pin": True,
            }

            async with services.sessions() as s:
                stored = (await s.get(Customer, customer.id)).pin_hash  # type: ignore[union-attr]
            assert stored
            assert "246810" not in stored
            assert verify_pin("246810", stored)
            info = await DbDirectory(services).customer_by_phone("13900000001")
            assert info is not None
            assert info.pin_hash == stored

            r = await client.delete(url, headers=bearer(token))
            assert r.status_code == 200
            assert r.json()["has_pin"] is False
            info = await DbDirectory(services).customer_by_phone("13900000001")
            assert info is not None
            assert info.pin_hash is None

        async with services.sessions() as s:
            logged = (
                await s.exec(
                    select(AuditLog)
                    .where(col(AuditLog.action).startswith("customer.pin"))
                    .order_by(col(AuditLog.id))
                )
            ).all()
        rows = [(a.action, a.object_id, a.detail) for a in logged]
        assert [(a, o) for a, o, _ in rows] == [
            ("customer.pin_set", str(customer.id)),
            ("customer.pin_cleared", str(customer.id)),
        ]
        assert "246810" not in repr(rows)
