"""create_app(services) -> FastAPI: the agent API, its websockets and the desktop page.

Built per process by the composition root (hotline/wiring.py runs it under uvicorn).
Everything the routes use lives on app.state, set here:
- services: the shared Services; auth: AuthContext (tokens, revocations, login limiter);
- agent_state: AgentStatePort, see agent_state_port() (the routing service's when it runs
  in this process, the bus in an API-only worker, a stand-in before routing exists);
- tickets: services.extras["tickets"] or a tickets.service.TicketService;
- hub: AgentHub (bus -> desktops), started and stopped with the app (lifespan).
Routers of other features are included when their module exists (OPTIONAL_ROUTERS).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from agent_api.agent_state.bus import BusAgentState
from agent_api.agent_state.memory import InMemoryAgentState
from agent_api.agent_state.port import AgentStatePort
from agent_api.agent_state.routing_port import RoutingAgentState
from agent_api.audit import AuditQueue
from agent_api.auth import AuthContext
from agent_api.errors import install_error_handlers
from agent_api.push.hub import AgentHub
from agent_api.push.pop import PopBuilder
from agent_api.ratelimit import LoginLimiter, MemoryLoginLimiter, RedisLoginLimiter
from agent_api.routes import (
    agent_api,
    auth_api,
    call_tickets_api,
    calls_api,
    customers_api,
    desk_api,
    knowledge_api,
    ws,
)
from agent_api.tokens import (
    MemoryRevocations,
    RedisRevocations,
    Revocations,
    TokenIssuer,
    signing_secret,
)
from hotline.services import Services

log = logging.getLogger("hotline.api")
STATIC = Path(__file__).parent / "static"

# Other features' routers (`router = APIRouter(...)` in these modules), included when the
# module exists; a module that exists but fails to import is an error, not skipped.
OPTIONAL_ROUTERS = (
    "ivr.twilio.routes",
    "tickets.api",
    "knowledge.api",
    "followups.api",
    "routing.api",
    "recordings.api",
    "reports.api",
    "supervisor.api",
)


def _module_present(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


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


def _tickets(services: Services) -> Any:
    if "tickets" in services.extras:
        return services.extras["tickets"]
    if _module_present("tickets.service"):
        return importlib.import_module("tickets.service").TicketService(services)
    return None


def agent_state_port(services: Services) -> AgentStatePort:
    """Who answers the agents' state commands, in this order: what the composition root
    wired (extras["agent_state"]); the routing service of this process; with Redis (the
    router runs in another process) the bus, answered there by an AgentCommandServer;
    else (nothing to route with yet) a stand-in machine of this process."""
    if "agent_state" in services.extras:
        port: AgentStatePort = services.extras["agent_state"]
        return port
    if "routing" in services.extras:
        return RoutingAgentState(services.extras["routing"])
    if services.settings.redis.url:
        return BusAgentState(services.bus, services.clock)
    return InMemoryAgentState(
        services.bus, services.clock, services.settings.routing.not_ready_reasons
    )


def create_app(services: Services) -> FastAPI:
    auth = _auth_context(services)  # refuses a missing secret outside dev mode
    agent_state = agent_state_port(services)
    audit_queue = AuditQueue(services.sessions)
    builder = PopBuilder(services.settings, services.sessions, services.clock)
    hub = AgentHub(services, builder, audit_queue)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await audit_queue.start()
        await hub.start()
        starter = getattr(agent_state, "start", None)
        if starter is not None:
            await starter()
        try:
            yield
        finally:
            stopper = getattr(agent_state, "stop", None)
            if stopper is not None:
                await stopper()
            await hub.stop()
            await audit_queue.stop()
            await auth.revocations.close()
            await auth.limiter.close()

    app = FastAPI(
        title="Hotline agent API",
        version="1",
        description=(
            "Sign in at POST /api/auth/login, then send `Authorization: Bearer <token>`. "
            "Agents connect the desktop websocket at /ws/agent (see agent_api/routes/ws.py). "
            "Errors are JSON {error, message}."
        ),
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.auth = auth
    app.state.agent_state = agent_state
    app.state.tickets = _tickets(services)
    app.state.hub = hub
    app.state.audit = audit_queue
    install_error_handlers(app)
    for module in (
        auth_api,
        agent_api,
        customers_api,
        calls_api,
        call_tickets_api,
        knowledge_api,
        desk_api,
        ws,
    ):
        app.include_router(module.router)
    for name in OPTIONAL_ROUTERS:
        if _module_present(name):
            router = getattr(importlib.import_module(name), "router", None)
            if router is not None:
                app.include_router(router)
    for router in services.extras.get("routers", ()):
        app.include_router(router)

    app.mount("/desk", StaticFiles(directory=STATIC, html=True), name="desk")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/desk/")

    return app
