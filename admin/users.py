"""Staff accounts, as an administrator manages them: list, create, edit, disable/enable
(never delete: calls, tickets and the audit log point at users), password reset.

Every action writes its audit row in the same transaction as the change (kernel/audit.py:
user.create, user.update, user.disable, user.enable, user.password_reset). A created or
reset user must change the password at the next sign-in (users.must_change_password,
agent_api/routes/auth_api.py). A temporary password follows the same policy as any
other (agent_api/password_policy.py); when the administrator gives none, one is made and
answered once. Signing a user out everywhere (disable, reset) is the API's part: the
tokens live in agent_api (Revocations.revoke_user)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from admin.errors import InvalidUser, UserConflict, UserNotFound
from admin.schemas import UserChange, UserIn
from agent_api.password_policy import describe, password_problems
from agent_api.passwords import Passwords
from db.models import AgentSkill, Role, User
from hotline.services import Services
from kernel.audit import Actor, audit_row, write_audit

# No 0/O, 1/l/I: a temporary password is read out or typed from a note.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Saved:
    user: User
    temporary_password: str | None = None


class UserAdmin:
    def __init__(self, services: Services, passwords: Passwords) -> None:
        self._services = services
        self._passwords = passwords

    # -- reads -------------------------------------------------------------------------------

    async def listing(self, *, include_inactive: bool = True) -> list[User]:
        stmt = select(User).order_by(col(User.username))
        if not include_inactive:
            stmt = stmt.where(col(User.active).is_(True))
        async with self._services.sessions() as session:
            return list((await session.exec(stmt)).all())

    async def get(self, user_id: int) -> User:
        async with self._services.sessions() as session:
            return await self._row(session, user_id)

    # -- changes -----------------------------------------------------------------------------

    async def create(self, actor: Actor, body: UserIn) -> Saved:
        self._check_fields(body.department, body.skills)
        password, generated = self._temporary(body.username, body.password)
        now = self._services.clock.now()
        user = User(
            username=body.username,
            display_name=body.display_name.strip(),
            role=Role(body.role),
            extension=body.extension,
            languages=list(dict.fromkeys(body.languages)),
            department=body.department or None,
            password_hash=await self._passwords.hash(password),
            must_change_password=True,
            created_at=now,
            updated_at=now,
        )
        async with self._services.sessions() as session:
            await self._unique(session, body.username, body.extension, None)
            session.add(user)
            await self._flush(session)
            assert user.id is not None
            for skill, level in body.skills.items():
                session.add(AgentSkill(user_id=user.id, skill=skill, level=level, updated_at=now))
            detail = _public(body.model_dump(exclude={"password"}))
            await self._audit(session, actor, "user.create", user.id, detail)
            await self._commit(session)
        await self._routing_changed()
        return Saved(await self.get(user.id), password if generated else None)

    async def update(self, actor: Actor, user_id: int, body: UserChange) -> User:
        changes = body.model_dump(exclude_unset=True)
        skills: Mapping[str, int] | None = changes.pop("skills", None)
        for required in ("display_name", "role", "languages"):  # null: left as it is
            if changes.get(required, "") is None:
                del changes[required]
        self._check_fields(changes.get("department"), skills or {})
        now = self._services.clock.now()
        async with self._services.sessions() as session:
            user = await self._row(session, user_id)
            if "extension" in changes:
                await self._unique(session, None, changes["extension"], user_id)
            before = {k: _plain(getattr(user, k)) for k in changes}
            if "role" in changes:
                changes["role"] = Role(changes["role"])
            if changes.get("department") == "":
                changes["department"] = None
            for name, value in changes.items():
                setattr(user, name, value)
            user.updated_at = now
            session.add(user)
            detail: dict[str, Any] = {"before": before, "after": _public(changes)}
            if skills is not None:
                detail["skills_before"] = {s.skill: s.level for s in user.skills}
                detail["skills"] = dict(skills)
                await session.exec(delete(AgentSkill).where(col(AgentSkill.user_id) == user_id))
                for skill, level in skills.items():
                    session.add(
                        AgentSkill(user_id=user_id, skill=skill, level=level, updated_at=now)
                    )
            await self._audit(session, actor, "user.update", user_id, detail)
            await self._commit(session)
        await self._routing_changed()
        return await self.get(user_id)

    async def set_active(self, actor: Actor, user_id: int, active: bool) -> User:
        if not active and actor.id == user_id:
            raise UserConflict("you cannot disable your own account (不能停用自己的账号)")
        async with self._services.sessions() as session:
            user = await self._row(session, user_id)
            if user.active != active:
                user.active = active
                user.updated_at = self._services.clock.now()
                session.add(user)
                action = "user.enable" if active else "user.disable"
                await self._audit(session, actor, action, user_id, {"username": user.username})
                await session.commit()
        return await self.get(user_id)

    async def reset_password(self, actor: Actor, user_id: int, given: str | None) -> Saved:
        async with self._services.sessions() as session:
            user = await self._row(session, user_id)
            password, generated = self._temporary(user.username, given)
            user.password_hash = await self._passwords.hash(password)
            user.must_change_password = self._services.settings.admin.force_change_after_reset
            user.updated_at = self._services.clock.now()
            session.add(user)
            detail = {"username": user.username, "generated": generated}
            await self._audit(session, actor, "user.password_reset", user_id, detail)
            await session.commit()
        return Saved(await self.get(user_id), password if generated else None)

    # -- helpers -----------------------------------------------------------------------------

    def _temporary(self, username: str, given: str | None) -> tuple[str, bool]:
        policy = self._services.settings.admin
        if given is not None:
            problems = password_problems(policy, given, username=username)
            if problems:
                raise InvalidUser(describe(problems), "weak_password")
            return given, False
        while True:
            size = max(12, policy.password_min_length)
            made = "".join(secrets.choice(_ALPHABET) for _ in range(size))
            if not password_problems(policy, made, username=username):
                return made, True

    def _check_fields(self, department: str | None, skills: Mapping[str, int]) -> None:
        s = self._services.settings
        known = s.skill_names()
        unknown = sorted(set(skills) - set(known))
        if unknown:
            raise InvalidUser(
                f"unknown skills {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        departments = {d.name for d in s.tickets.departments}
        if department and department not in departments:
            raise InvalidUser(
                f"unknown department {department!r} (known: {', '.join(sorted(departments))})"
            )

    async def _row(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise UserNotFound(f"no user {user_id}")
        return user

    async def _unique(
        self, session: AsyncSession, username: str | None, extension: str | None, me: int | None
    ) -> None:
        if username is not None:
            taken = (await session.exec(select(User.id).where(User.username == username))).first()
            if taken is not None:
                raise UserConflict(f"the username {username!r} is taken (用户名已存在)")
        if extension:
            stmt = select(User.id).where(User.extension == extension)
            taken = (await session.exec(stmt)).first()
            if taken is not None and taken != me:
                raise UserConflict(f"the extension {extension} is taken (分机号已被占用)")

    async def _flush(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:  # a race with another admin: same name or extension
            await session.rollback()
            raise UserConflict("the username or the extension is taken") from exc

    async def _commit(self, session: AsyncSession) -> None:
        try:
            await session.commit()
        except IntegrityError as exc:
            await session.rollback()
            raise UserConflict("the username or the extension is taken") from exc

    async def _audit(
        self, session: AsyncSession, actor: Actor, action: str, user_id: int, detail: Any
    ) -> None:
        row = audit_row(
            actor=actor,
            action=action,
            object_type="user",
            object_id=user_id,
            detail=detail,
            at=self._services.clock.now(),
        )
        await write_audit(session, [row])

    async def _routing_changed(self) -> None:
        """The router of this process learns new agents and skills at once; a router in
        another process reads them at its next rebuild (or `hotline reload`)."""
        routing = self._services.features.routing
        if routing is not None:
            await routing.reload_agents()


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _public(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in values.items()}
