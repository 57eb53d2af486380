"""The live view over HTTP and a websocket, and the wallboard page.

    GET /api/supervisor/live     the snapshot (supervisor/live_model.py), supervisors and
                                 admins; read from the database when no LiveService runs
                                 in this process (services.features.live)
    WS  /ws/supervisor           the same snapshot on connect, then updates (at most twice
                                 a second) and {"type": "alert", "alert": {...}} frames
    GET /wallboard/              the wallboard page (zh/en), signs in like the desktop

The websocket handshake is the agent desktop's (desk/routes/ws.py): Origin check,
?ticket=<ws ticket> or a first {"type": "auth", "token"} message within 5 s, then
{"type": "hello", "user", "reason_labels"} (config.yaml's not-ready labels); ping/pong and
token refresh the same way; a bounded queue per socket (desk/push/connection.py: 1013
when it falls behind). 1008 on a bad token, a wrong origin, or a role other than
supervisor/admin; 1008 also when the token expires or is signed out. Included by name
through supervisor/api.py.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, RedirectResponse

from agent_api.auth import AuthContext, Principal, require_roles
from agent_api.errors import NotFound, error_responses
from db.models import Role
from desk.push.connection import CLOSE_POLICY, AgentConnection
from desk.push.hub import dumps
from desk.push.replay import Frame
from desk.routes.ws import Refused, _authenticate, _receive, origin_allowed
from hotline.services import Services
from supervisor.live_alerts import addressed_to
from supervisor.live_service import Listener, LiveService, snapshot_from_db

router = APIRouter(tags=["supervisor"])
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
STAFF_ROLES = (Role.SUPERVISOR, Role.ADMIN)
STATIC = Path(__file__).parent / "static"
_ASSET = re.compile(r"^wallboard[a-z0-9_-]{0,30}\.(js|css|html)$")
ASSETS = frozenset(p.name for p in STATIC.glob("wallboard*") if _ASSET.match(p.name))
MAX_QUEUE = 64  # snapshots are whole: a socket this far behind is dropped (1013)


def live_of(services: Services) -> LiveService | None:
    live = services.features.live
    return live if isinstance(live, LiveService) else None


@router.get("/api/supervisor/live", responses=error_responses(401, 403))
async def live_snapshot(request: Request, user: Staff) -> dict[str, Any]:
    services: Services = request.app.state.services
    live = live_of(services)
    snap = live.snapshot() if live is not None else await snapshot_from_db(services)
    snap["alerts"] = [a for a in snap["alerts"] if addressed_to(a, user.role.value, user.id)]
    return snap


@router.websocket("/ws/supervisor")
async def supervisor_socket(ws: WebSocket, ticket: str | None = None) -> None:
    services: Services = ws.app.state.services
    auth: AuthContext = ws.app.state.auth
    await ws.accept()
    try:
        if not origin_allowed(ws, services.settings.http.allowed_origins):
            raise Refused("origin not allowed")
        principal, _epoch, _seq = await _authenticate(ws, auth, ticket)
        if principal.role not in STAFF_ROLES:
            raise Refused("the live view is for supervisors and admins")
        live = live_of(services)
        if live is None:
            raise Refused("the live view does not run in this process")
    except Refused as exc:
        with contextlib.suppress(Exception):
            await ws.close(CLOSE_POLICY, str(exc)[:120])
        return
    except WebSocketDisconnect:
        return
    conn = AgentConnection(ws, principal, on_pop_sent=lambda _c, _f: None, max_queue=MAX_QUEUE)
    conn.push(
        Frame(
            0,
            "",
            0.0,
            text=dumps(
                {
                    "type": "hello",
                    "user": _user(principal),
                    "reason_labels": services.settings.routing.reason_labels(),
                }
            ),
        )
    )
    listener = Listener(conn)
    conn.start()
    live.attach(listener)
    try:
        await _receive(ws, conn, auth)
    finally:
        live.detach(listener)
        await conn.stop()


def _user(p: Principal) -> dict[str, Any]:
    return {"id": p.id, "username": p.username, "display_name": p.display_name, "role": p.role}


# -- the wallboard page (no data without a token: it signs in like the desktop) ---------------


@router.get("/wallboard", include_in_schema=False)
async def wallboard_root() -> RedirectResponse:
    return RedirectResponse("/wallboard/")


@router.get("/wallboard/", include_in_schema=False)
async def wallboard() -> FileResponse:
    return FileResponse(STATIC / "wallboard.html", headers={"Cache-Control": "no-cache"})


@router.get("/wallboard/{name}", include_in_schema=False)
async def wallboard_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"no such file: /wallboard/{name}")
    return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})
