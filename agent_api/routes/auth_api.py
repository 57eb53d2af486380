"""Sign-in, sign-out, token refresh, password change, and the short ticket for opening the
websocket.

A user an administrator created or reset (users.must_change_password) signs in as usual
but gets {must_change_password: true} and a token that only POST /api/auth/password
accepts (every other route: 403 password_change_required); the change answers a normal
token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import select

from agent_api.auth import AuthContext, CurrentUser, PasswordChanger, Principal, auth_context
from agent_api.deps import ServicesDep, SessionDep, client_address
from agent_api.errors import ApiError, error_responses
from agent_api.password_policy import describe, password_problems
from agent_api.ratelimit import limiter_key
from db.models import User
from kernel import topics
from kernel.audit import audit

router = APIRouter(prefix="/api/auth", tags=["auth"])
AuthDep = Annotated[AuthContext, Depends(auth_context)]


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    extension: str | None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: float
    user: UserOut
    # True: this token can only change the password (POST /api/auth/password).
    must_change_password: bool = False


class PasswordChangeIn(BaseModel):
    old: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=1, max_length=200)


class TicketOut(BaseModel):
    ticket: str
    expires_at: float


def _user_out(p: Principal) -> UserOut:
    return UserOut(
        id=p.id,
        username=p.username,
        display_name=p.display_name,
        role=p.role.value,
        extension=p.extension,
    )


def _issue(ctx: AuthContext, p: Principal | User, *, password_change: bool = False) -> TokenOut:
    if isinstance(p, User):
        assert p.id is not None
        user_id, name, dn, role, ext = p.id, p.username, p.display_name, str(p.role), p.extension
    else:
        user_id, name, dn, role, ext = p.id, p.username, p.display_name, p.role.value, p.extension
    token, claims = ctx.issuer.issue(
        user_id=user_id,
        username=name,
        display_name=dn,
        role=role,
        extension=ext,
        password_change=password_change,
    )
    return TokenOut(
        access_token=token,
        expires_at=claims.expires_at,
        user=_user_out(Principal.of(claims)),
        must_change_password=password_change,
    )


@router.post(
    "/login",
    response_model=TokenOut,
    responses=error_responses(400, 401, 422, 429),
    summary="Sign in with username and password",
)
async def login(
    body: LoginRequest,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    ctx: AuthDep,
) -> TokenOut:
    address = client_address(request)
    key = limiter_key(body.username, address)
    wait = await ctx.limiter.retry_after(key)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed sign-ins: try again in {int(wait) + 1} s",
            {"Retry-After": str(int(wait) + 1)},
        )
    user = (await session.exec(select(User).where(User.username == body.username))).first()
    usable = user is not None and user.active
    ok = await ctx.passwords.verify(user.password_hash if usable and user else None, body.password)
    if not ok or user is None:
        await ctx.limiter.failed(key)
        await audit(
            session,
            actor=None,
            action="auth.login_failed",
            object_type="user",
            object_id=user.id if user and user.id else "",
            source=address,
            detail={"username": body.username[:40]},
            clock=services.clock,
        )
        raise ApiError(401, "bad_credentials", "wrong username or password")
    await ctx.limiter.succeeded(key)
    if ctx.passwords.needs_rehash(user.password_hash):
        user.password_hash = await ctx.passwords.hash(body.password)
    user.last_login_at = services.clock.now()
    session.add(user)
    await session.commit()
    out = _issue(ctx, user, password_change=user.must_change_password)
    await audit(
        session,
        actor=Principal.of(ctx.issuer.decode(out.access_token)).actor(),
        action="auth.login",
        object_type="user",
        object_id=out.user.id,
        source=address,
        detail={"must_change_password": True} if out.must_change_password else None,
        clock=services.clock,
    )
    return out


@router.post(
    "/password",
    response_model=TokenOut,
    responses=error_responses(400, 401, 422, 429),
    summary="Change your own password (old and new); answers a fresh token",
)
async def change_password(
    body: PasswordChangeIn,
    request: Request,
    user: PasswordChanger,
    session: SessionDep,
    services: ServicesDep,
    ctx: AuthDep,
) -> TokenOut:
    address = client_address(request)
    key = limiter_key(user.username, address)
    wait = await ctx.limiter.retry_after(key)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many wrong passwords: try again in {int(wait) + 1} s",
            {"Retry-After": str(int(wait) + 1)},
        )
    row = await session.get(User, user.id)
    if row is None or not row.active:
        raise ApiError(401, "unauthenticated", "this account is not active: sign in again")
    if not await ctx.passwords.verify(row.password_hash, body.old):
        await ctx.limiter.failed(key)
        raise ApiError(422, "wrong_password", "the current password is wrong (当前密码不正确)")
    problems = password_problems(
        services.settings.admin, body.new, username=row.username, old=body.old
    )
    if problems:
        raise ApiError(422, "weak_password", describe(problems))
    await ctx.limiter.succeeded(key)
    row.password_hash = await ctx.passwords.hash(body.new)
    row.must_change_password = False
    row.password_changed_at = row.updated_at = services.clock.now()
    session.add(row)
    await session.commit()
    await session.refresh(row)
    await ctx.revocations.revoke(user.token_id, user.expires_at)
    await audit(
        session,
        actor=user.actor(),
        action="auth.password_changed",
        object_type="user",
        object_id=user.id,
        source=address,
        detail={"was_required": user.must_change_password},
        clock=services.clock,
    )
    return _issue(ctx, row)


@router.post(
    "/logout",
    status_code=204,
    responses=error_responses(401),
    summary="Sign out: the token stops working at once",
)
async def logout(user: PasswordChanger, services: ServicesDep, ctx: AuthDep) -> Response:
    # PasswordChanger: a user asked to change the password may also just sign out.
    await ctx.revocations.revoke(user.token_id, user.expires_at)
    # Every API worker closes the websockets opened with this token.
    await services.bus.publish(
        topics.AUTH, {"type": "auth.revoked", "jti": user.token_id, "user_id": user.id}
    )
    return Response(status_code=204)


@router.post(
    "/refresh",
    response_model=TokenOut,
    responses=error_responses(401),
    summary="A fresh token for the same user (the old one is revoked)",
)
async def refresh(user: CurrentUser, ctx: AuthDep) -> TokenOut:
    out = _issue(ctx, user)
    await ctx.revocations.revoke(user.token_id, user.expires_at)
    return out


@router.get("/me", response_model=UserOut, responses=error_responses(401))
async def me(user: CurrentUser) -> UserOut:
    return _user_out(user)


@router.post(
    "/ws-ticket",
    response_model=TicketOut,
    responses=error_responses(401),
    summary="A single-use ticket for /ws/agent?ticket=... (valid for auth.ws_ticket_seconds)",
)
async def ws_ticket(user: CurrentUser, ctx: AuthDep) -> TicketOut:
    ticket, claims = ctx.issuer.issue(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role.value,
        extension=user.extension,
        purpose="ws",
        parent=ctx.claims_of(user),
    )
    return TicketOut(ticket=ticket, expires_at=claims.expires_at)
