"""Who is calling: bearer-token authentication and role checks, as FastAPI dependencies.

Other features' routers use these (nothing else):

    from agent_api.auth import CurrentUser, Principal, require_roles
    from db.models import Role

    @router.get("/x")
    async def x(user: Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]): ...

    @router.get("/y")
    async def y(user: CurrentUser): ...  # any signed-in user

No token, a malformed, expired or revoked token: 401 with WWW-Authenticate: Bearer.
A valid token with a role not in the list: 403. A token from a sign-in with a temporary
password (claim pwc, users.must_change_password): 403 password_change_required on every
route but POST /api/auth/password (PasswordChanger). A disabled user's tokens stop at
once (Revocations.revoke_user). Roles come from the token (issued at
sign-in from users.role); tokens are short-lived, so a role change applies within
auth.token_minutes, and signing out revokes the token at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agent_api.errors import AccessDenied, ApiError, unauthenticated
from agent_api.passwords import Passwords
from agent_api.ratelimit import LoginLimiter
from agent_api.tokens import Purpose, Revocations, TokenClaims, TokenError, TokenIssuer
from db.models import Role
from kernel.audit import Actor

ALL_ROLES = frozenset(Role)
PASSWORD_CHANGE_REQUIRED = "password_change_required"


@dataclass(frozen=True, slots=True)
class Principal:
    id: int
    username: str
    display_name: str
    role: Role
    extension: str | None
    token_id: str
    expires_at: float
    must_change_password: bool = False

    @classmethod
    def of(cls, claims: TokenClaims) -> Principal:
        return cls(
            id=claims.user_id,
            username=claims.username,
            display_name=claims.display_name,
            role=Role(claims.role),
            extension=claims.extension,
            token_id=claims.jti,
            expires_at=claims.expires_at,
            must_change_password=claims.password_change,
        )

    def actor(self) -> Actor:
        """This user as audit rows name them (by username)."""
        return Actor(self.id, self.username, self.role.value)

    def is_staff(self) -> bool:
        """Supervisors and administrators see every agent's calls."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


@dataclass
class AuthContext:
    """The authentication parts one app shares (built by create_app)."""

    issuer: TokenIssuer
    revocations: Revocations
    limiter: LoginLimiter
    passwords: Passwords = field(default_factory=Passwords)

    async def principal(
        self, token: str, purpose: Purpose = "access", *, password_change: bool = False
    ) -> Principal:
        """The user of a token; TokenError when it is invalid, expired or revoked, or
        (reason password_change_required) when it only allows changing the password and
        `password_change` is False. A websocket ticket is single-use and stands for its
        parent access token."""
        claims = self.issuer.decode(token, purpose)
        if await self.revocations.is_revoked(claims.jti):
            if purpose == "ws":
                raise TokenError("revoked", "this websocket ticket was already used")
            raise TokenError("revoked", "the token was signed out: sign in again")
        disabled_at = await self.revocations.user_revoked_at(claims.user_id)
        if disabled_at is not None and claims.issued_at <= disabled_at:
            raise TokenError("revoked", "this account was disabled or changed: sign in again")
        if claims.password_change and not password_change:
            raise TokenError(
                PASSWORD_CHANGE_REQUIRED,
                "change your password first (POST /api/auth/password): 请先修改密码",
            )
        if claims.parent_jti is not None:
            if await self.revocations.is_revoked(claims.parent_jti):
                raise TokenError("revoked", "the token was signed out: sign in again")
            await self.revocations.revoke(claims.jti, claims.expires_at)  # single use
            claims = replace(
                claims,
                jti=claims.parent_jti,
                expires_at=claims.parent_expires_at or claims.expires_at,
            )
        try:
            return Principal.of(claims)
        except ValueError as exc:  # a role this version does not know
            raise TokenError("invalid", "the token is not valid: sign in again") from exc

    def claims_of(self, user: Principal) -> TokenClaims:
        return TokenClaims(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role.value,
            extension=user.extension,
            jti=user.token_id,
            issued_at=0.0,
            expires_at=user.expires_at,
        )


_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/auth/login")


def auth_context(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.auth
    return ctx


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise unauthenticated("sign in first: send the header Authorization: Bearer <token>")
    try:
        return await auth_context(request).principal(credentials.credentials)
    except TokenError as exc:
        if exc.reason == PASSWORD_CHANGE_REQUIRED:
            raise ApiError(403, PASSWORD_CHANGE_REQUIRED, str(exc)) from None
        raise unauthenticated(str(exc)) from None


async def password_changer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Any signed-in user, including one whose token only allows changing the password."""
    if credentials is None or not credentials.credentials:
        raise unauthenticated("sign in first: send the header Authorization: Bearer <token>")
    try:
        return await auth_context(request).principal(credentials.credentials, password_change=True)
    except TokenError as exc:
        raise unauthenticated(str(exc)) from None


CurrentUser = Annotated[Principal, Depends(current_user)]
PasswordChanger = Annotated[Principal, Depends(password_changer)]


def require_roles(*roles: Role | str) -> Any:
    """A dependency giving the Principal when its role is one of `roles` (else 403)."""
    allowed = frozenset(Role(r) for r in roles)
    if not allowed:
        raise ValueError("require_roles needs at least one role")
    names = ", ".join(sorted(r.value for r in allowed))

    async def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise AccessDenied(f"this needs one of the roles {names}; you are {user.role.value}")
        return user

    check.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the role tests
    return Depends(check)
