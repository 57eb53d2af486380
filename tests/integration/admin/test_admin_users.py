"""Accounts an administrator manages, through create_app on SQLite and PostgreSQL: a new
agent signs in forced to change the password, changes it, then works; a disabled user is
refused and its tokens stop; a reset forces a change again; every action is audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.harness.http_app import bearer
from tests.integration.admin.support import NEW_PASSWORD, AdminApp, admin_app

AGENT: dict[str, Any] = {
    "username": "agent31",
    "display_name": "李小梅",
    "role": "agent",
    "extension": "1031",
    "languages": ["zh", "en"],
    "department": "service_center",
    "skills": {"billing": 7, "general": 4},
    "password": "Temp2026pass",
}


async def _sign_in(app: AdminApp, username: str, password: str) -> dict[str, Any]:
    r = await app.client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _actions(app: AdminApp) -> list[tuple[str, str, str]]:
    async with app.services.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT actor_name, action, object_id FROM audit_log ORDER BY id")
        )
        return [(a, b, c) for a, b, c in rows]


async def test_given_a_new_agent_when_signing_in_then_forced_to_change_then_works(
    db_url: str,
) -> None:
    async with admin_app(db_url) as app:
        r = await app.client.post("/api/admin/users", json=AGENT, headers=app.admin)
        assert r.status_code == 201, r.text
        created = r.json()["user"]
        assert created["skills"] == {"billing": 7, "general": 4}
        assert created["must_change_password"] is True
        assert r.json()["temporary_password"] is None  # the admin gave one

        first = await _sign_in(app, "agent31", "Temp2026pass")
        assert first["must_change_password"] is True
        limited = bearer(first["access_token"])
        for method, path in (("GET", "/api/auth/me"), ("GET", "/api/desk/config")):
            r = await app.client.request(method, path, headers=limited)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"] == "password_change_required"

        weak = {"old": "Temp2026pass", "new": "short1"}
        r = await app.client.post("/api/auth/password", json=weak, headers=limited)
        assert r.status_code == 422
        assert r.json()["error"] == "weak_password"
        assert "10" in r.json()["message"]
        same = {"old": "Temp2026pass", "new": "Temp2026pass"}
        r = await app.client.post("/api/auth/password", json=same, headers=limited)
        assert r.status_code == 422
        assert "old" in r.json()["message"]
        wrong = {"old": "not it at all 1", "new": NEW_PASSWORD}
        r = await app.client.post("/api/auth/password", json=wrong, headers=limited)
        assert r.status_code == 422
        assert r.json()["error"] == "wrong_password"

        good = {"old": "Temp2026pass", "new": NEW_PASSWORD}
        r = await app.client.post("/api/auth/password", json=good, headers=limited)
        assert r.status_code == 200, r.text
        assert r.json()["must_change_password"] is False
        fresh = bearer(r.json()["access_token"])
        assert (await app.client.get("/api/auth/me", headers=fresh)).status_code == 200
        # the limited token was used up by the change
        assert (await app.client.get("/api/auth/me", headers=limited)).status_code == 401

        again = await _sign_in(app, "agent31", NEW_PASSWORD)
        assert again["must_change_password"] is False
        me = await app.client.get("/api/auth/me", headers=bearer(again["access_token"]))
        assert me.json()["extension"] == "1031"

        actions = await _actions(app)
        assert ("boss", "user.create", str(created["id"])) in actions
        assert ("agent31", "auth.password_changed", str(created["id"])) in actions


async def test_given_an_agent_when_disabled_then_tokens_stop_and_sign_in_refused(
    db_url: str,
) -> None:
    async with admin_app(db_url) as app:
        body = {**AGENT, "password": None}
        r = await app.client.post("/api/admin/users", json=body, headers=app.admin)
        user_id, temporary = r.json()["user"]["id"], r.json()["temporary_password"]
        assert temporary
        assert len(temporary) >= 10
        first = await _sign_in(app, "agent31", temporary)
        r = await app.client.post(
            "/api/auth/password",
            json={"old": temporary, "new": NEW_PASSWORD},
            headers=bearer(first["access_token"]),
        )
        token = bearer(r.json()["access_token"])
        app.clock.advance(1)

        r = await app.client.post(f"/api/admin/users/{user_id}/disable", headers=app.admin)
        assert r.status_code == 200
        assert r.json()["active"] is False
        r = await app.client.get("/api/auth/me", headers=token)
        assert r.status_code == 401, r.text
        r = await app.client.post(
            "/api/auth/login", json={"username": "agent31", "password": NEW_PASSWORD}
        )
        assert r.status_code == 401

        app.clock.advance(1)
        r = await app.client.post(f"/api/admin/users/{user_id}/enable", headers=app.admin)
        assert r.json()["active"] is True
        back = await _sign_in(app, "agent31", NEW_PASSWORD)
        me = await app.client.get("/api/auth/me", headers=bearer(back["access_token"]))
        assert me.status_code == 200
        actions = [a for _, a, _ in await _actions(app)]
        assert "user.disable" in actions
        assert "user.enable" in actions


async def test_given_an_agent_when_the_admin_resets_then_the_next_sign_in_must_change(
    db_url: str,
) -> None:
    async with admin_app(db_url) as app:
        r = await app.client.post(
            "/api/admin/users", json={**AGENT, "password": None}, headers=app.admin
        )
        user_id = r.json()["user"]["id"]
        weak = await app.client.post(
            f"/api/admin/users/{user_id}/password-reset",
            json={"password": "agent31abc99"},
            headers=app.admin,
        )
        assert weak.status_code == 422
        assert "username" in weak.json()["message"]
        r = await app.client.post(
            f"/api/admin/users/{user_id}/password-reset", json={}, headers=app.admin
        )
        assert r.status_code == 200, r.text
        temporary = r.json()["temporary_password"]
        app.clock.advance(1)
        signed = await _sign_in(app, "agent31", temporary)
        assert signed["must_change_password"] is True
        assert ("boss", "user.password_reset", str(user_id)) in await _actions(app)


async def test_given_users_when_edited_then_fields_and_skills_change_and_conflicts_refused(
    db_url: str,
) -> None:
    async with admin_app(db_url) as app:
        r = await app.client.post("/api/admin/users", json=AGENT, headers=app.admin)
        user_id = r.json()["user"]["id"]
        change = {"display_name": "李小梅 (组长)", "skills": {"repair": 9}, "languages": ["zh"]}
        r = await app.client.patch(f"/api/admin/users/{user_id}", json=change, headers=app.admin)
        assert r.status_code == 200, r.text
        assert r.json()["skills"] == {"repair": 9}
        assert r.json()["display_name"] == "李小梅 (组长)"
        dup = {**AGENT, "username": "agent32"}
        r = await app.client.post("/api/admin/users", json=dup, headers=app.admin)
        assert r.status_code == 409
        assert "1031" in r.json()["message"]
        unknown = {**AGENT, "username": "agent33", "extension": "1033", "skills": {"flying": 3}}
        r = await app.client.post("/api/admin/users", json=unknown, headers=app.admin)
        assert r.status_code == 422
        assert "flying" in r.json()["message"]
        me = (await app.client.get("/api/auth/me", headers=app.admin)).json()
        r = await app.client.post(f"/api/admin/users/{me['id']}/disable", headers=app.admin)
        assert r.status_code == 409
        listing = (await app.client.get("/api/admin/users", headers=app.admin)).json()
        assert [u["username"] for u in listing] == ["agent31", "boss"]
