"""Access tokens: short-lived JWTs (HS256, the configured secret) with a server-side
revocation list, so signing out ends a token before it expires.

Claims: sub (user id), name, dn (display name), role, ext (extension), jti, iat, exp,
aud ("hotline" for API tokens, "hotline-ws" for the short websocket tickets), and pwc
(true: signed in with a temporary password, the token may only change it). Expiry is
checked against the injected Clock (not pyjwt's wall clock), so tests can age tokens.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import jwt

from kernel.clock import Clock

ALGORITHM = "HS256"
Purpose = Literal["access", "ws"]
_AUDIENCE: dict[Purpose, str] = {"access": "hotline", "ws": "hotline-ws"}


class TokenError(Exception):
    """The token cannot be used; `reason` is expired, revoked or invalid."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    username: str
    display_name: str
    role: str
    extension: str | None
    jti: str
    issued_at: float
    expires_at: float
    purpose: Purpose = "access"
    # A websocket ticket stands for the access token it was issued under: the socket
    # lives as long as that token and closes when that token is signed out.
    parent_jti: str | None = None
    parent_expires_at: float | None = None
    # Signed in with a temporary password: the token can only change it (claim "pwc").
    password_change: bool = False


class TokenIssuer:
    def __init__(self, secret: str, *, minutes: int, ws_seconds: int, clock: Clock) -> None:
        self._secret = secret
        self._lifetime = {"access": minutes * 60.0, "ws": float(ws_seconds)}
        self._clock = clock

    def issue(
        self,
        *,
        user_id: int,
        username: str,
        display_name: str,
        role: str,
        extension: str | None,
        purpose: Purpose = "access",
        parent: TokenClaims | None = None,
        password_change: bool = False,
    ) -> tuple[str, TokenClaims]:
        now = self._clock.timestamp()
        claims = TokenClaims(
            user_id=user_id,
            username=username,
            display_name=display_name,
            role=role,
            extension=extension,
            jti=uuid.uuid4().hex,
            issued_at=now,
            expires_at=now + self._lifetime[purpose],
            purpose=purpose,
            parent_jti=parent.jti if parent else None,
            parent_expires_at=parent.expires_at if parent else None,
            password_change=password_change,
        )
        if parent is not None:
            claims = replace(claims, expires_at=min(claims.expires_at, parent.expires_at))
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "name": username,
            "dn": display_name,
            "role": role,
            "ext": extension,
            "jti": claims.jti,
            "iat": now,  # not rounded: a disabled account's tokens are told apart by it
            "exp": claims.expires_at,
            "aud": _AUDIENCE[purpose],
        }
        if parent is not None:
            payload["pjti"], payload["pexp"] = parent.jti, parent.expires_at
        if password_change:
            payload["pwc"] = True
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def decode(self, token: str, purpose: Purpose = "access") -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=_AUDIENCE[purpose],
                options={
                    "verify_exp": False,  # checked below against the Clock
                    "verify_iat": False,
                    "require": ["sub", "jti", "exp", "iat", "aud", "role"],
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise TokenError("invalid", f"this token is not valid for {purpose}") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("invalid", "the token is not valid: sign in again") from exc
        try:
            expires = float(payload["exp"])
            claims = TokenClaims(
                user_id=int(payload["sub"]),
                username=str(payload.get("name", "")),
                display_name=str(payload.get("dn", "")),
                role=str(payload["role"]),
                extension=payload.get("ext"),
                jti=str(payload["jti"]),
                issued_at=float(payload["iat"]),
                expires_at=expires,
                purpose=purpose,
                parent_jti=payload.get("pjti"),
                parent_expires_at=float(payload["pexp"]) if "pexp" in payload else None,
                password_change=payload.get("pwc") is True,
            )
        except (TypeError, ValueError) as exc:
            raise TokenError("invalid", "the token is not valid: sign in again") from exc
        if expires <= self._clock.timestamp():
            raise TokenError("expired", "the token has expired: sign in again")
        return claims


def signing_secret(configured: str | None, *, dev_mode: bool) -> str:
    """The secret to sign with. Outside dev mode a missing secret is refused (the settings
    already refuse weak ones); in dev mode a random per-process secret stands in."""
    if configured:
        return configured
    if not dev_mode:
        raise RuntimeError(
            "auth.secret_key: the agent API needs HOTLINE_AUTH__SECRET_KEY (a random value of "
            "at least 32 characters) to sign tokens; or set auth.dev_mode: true for local "
            "development"
        )
    return secrets.token_hex(32)


class Revocations(Protocol):
    """Token ids signed out before they expired (every API worker must see them)."""

    async def revoke(self, jti: str, expires_at: float) -> None: ...

    async def is_revoked(self, jti: str) -> bool: ...

    async def revoke_user(self, user_id: int, at: float, expires_at: float) -> None:
        """Every token of the user issued at or before `at` stops (a disabled account)."""
        ...

    async def user_revoked_at(self, user_id: int) -> float | None: ...

    async def close(self) -> None: ...


class MemoryRevocations:
    """One process (the in-process bus setup): a dict pruned of expired entries."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}
        self._users: dict[int, tuple[float, float]] = {}

    async def revoke(self, jti: str, expires_at: float) -> None:
        now = self._clock.timestamp()
        if len(self._until) > 1000:
            self._until = {k: v for k, v in self._until.items() if v > now}
        self._until[jti] = expires_at

    async def is_revoked(self, jti: str) -> bool:
        return jti in self._until

    async def revoke_user(self, user_id: int, at: float, expires_at: float) -> None:
        self._users[user_id] = (at, expires_at)

    async def user_revoked_at(self, user_id: int) -> float | None:
        found = self._users.get(user_id)
        return found[0] if found and found[1] > self._clock.timestamp() else None

    async def close(self) -> None:
        return None


class RedisRevocations:
    """Several API workers: one key per revoked token, expiring with the token."""

    def __init__(self, url: str, prefix: str = "hotline:revoked:") -> None:
        import redis.asyncio as aioredis

        self._client: Any = aioredis.Redis.from_url(url, socket_connect_timeout=5)
        self._prefix = prefix

    async def revoke(self, jti: str, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()) + 1)
        await self._client.set(self._prefix + jti, b"1", ex=ttl)

    async def is_revoked(self, jti: str) -> bool:
        return bool(await self._client.exists(self._prefix + jti))

    async def revoke_user(self, user_id: int, at: float, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()) + 1)
        await self._client.set(f"{self._prefix}user:{user_id}", str(at), ex=ttl)

    async def user_revoked_at(self, user_id: int) -> float | None:
        value = await self._client.get(f"{self._prefix}user:{user_id}")
        return float(value) if value is not None else None

    async def close(self) -> None:
        await self._client.aclose()
