"""create_app(services, features) -> FastAPI: the HTTP platform every feature plugs into.

The composition root (hotline/http.py) builds each feature's `HttpFeature` and passes the
list in; this package imports no feature. What the platform itself provides, on app.state:
- services: the shared Services; auth: AuthContext (tokens, revocations, login limiter);
- the JSON error bodies, with the domain-error table the root passes (agent_api/errors.py).
Each feature adds its routers, its app.state entries, the components its routes need
(started in order in the app's lifespan, stopped in reverse) and its static pages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from agent_api.auth import AuthContext
from agent_api.errors import DomainError, install_error_handlers
from agent_api.ratelimit import LoginLimiter, MemoryLoginLimiter, RedisLoginLimiter
from agent_api.routes import auth_api
from agent_api.tokens import (
    MemoryRevocations,
    RedisRevocations,
    Revocations,
    TokenIssuer,
    signing_secret,
)
from hotline.services import Services

log = logging.getLogger("hotline.api")
COMMON_STATIC = Path(__file__).parent / "static"


class AppComponent(Protocol):
    """Something a feature's routes need running while the app serves."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class HttpFeature:
    """What one feature adds to the app. `static` mounts a directory of pages at a path
    (html=True); `home` is where "/" redirects (one feature at most)."""

    routers: Sequence[APIRouter] = ()
    state: Mapping[str, Any] = field(default_factory=dict)
    components: Sequence[AppComponent] = ()
    static: Mapping[str, Path] = field(default_factory=dict)
    home: str | None = None


def _auth_context(services: Services) -> AuthContext:
    s = services.settings
    configured = s.auth.secret_key.get_secret_value() if s.auth.secret_key else None
    secret = signing_secret(configured, dev_mode=s.auth.dev_mode)
    if configured is None:
        log.warning("auth.dev_mode: signing tokens with a random per-process secret")
    issuer = TokenIssuer(
        secret,
        minutes=s.auth.token_minutes,
        ws_seconds=s.auth.ws_ticket_seconds,
        clock=services.clock,
    )
    revocations: Revocations
    limiter: LoginLimiter
    if s.redis.url:  # several workers: they must share sign-outs and the login counters
        revocations = RedisRevocations(s.redis.url)
        limiter = RedisLoginLimiter(s.redis.url, s.auth.login_attempts, s.auth.login_window_seconds)
    else:
        revocations = MemoryRevocations(services.clock)
        limiter = MemoryLoginLimiter(
            s.auth.login_attempts, s.auth.login_window_seconds, services.clock
        )
    return AuthContext(issuer=issuer, revocations=revocations, limiter=limiter)


def create_app(
    services: Services,
    features: Sequence[HttpFeature],
    domain_errors: Sequence[DomainError] = (),
) -> FastAPI:
    auth = _auth_context(services)  # refuses a missing secret outside dev mode
    components = [c for feature in features for c in feature.components]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started: list[AppComponent] = []
        try:
            for component in components:
                await component.start()
                started.append(component)
            yield
        finally:
            for component in reversed(started):
                await component.stop()
            await auth.revocations.close()
            await auth.limiter.close()

    app = FastAPI(
        title="Hotline agent API",
        version="1",
        description=(
            "Sign in at POST /api/auth/login, then send `Authorization: Bearer <token>`. "
            "Agents connect the desktop websocket at /ws/agent (see desk/routes/ws.py). "
            "Errors are JSON {error, message}."
        ),
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.auth = auth
    for feature in features:
        for name, value in feature.state.items():
            setattr(app.state, name, value)
    install_error_handlers(app, domain_errors)
    app.include_router(auth_api.router)
    for feature in features:
        for router in feature.routers:
            app.include_router(router)
    # The pages' shared modules (i18n.js): every feature's page imports them from here.
    app.mount("/common", StaticFiles(directory=COMMON_STATIC), name="common")
    for feature in features:
        for path, directory in feature.static.items():
            app.mount(path, StaticFiles(directory=directory, html=True), name=path.strip("/"))
    home = next((f.home for f in features if f.home), None)
    if home is not None:
        target = home

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse(target)

    return app
