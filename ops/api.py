"""GET /healthz, /readyz and /metrics: for load balancers, systemd and Prometheus; no
sign-in (they carry no customer data and no secrets), not in the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent_api.app import HttpFeature
from hotline.services import Services
from ops.health import readiness
from ops.metrics import registry

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    ready, body = await readiness(request.app.state.services)
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    reg = request.app.state.ops_registry
    if reg is None:  # built on first use: the desk's hub exists once the app is made
        reg = registry(request.app.state.services, getattr(request.app.state, "hub", None))
        request.app.state.ops_registry = reg
    return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)


def ops_feature(services: Services) -> HttpFeature:
    return HttpFeature(routers=[router], state={"ops_registry": None})
