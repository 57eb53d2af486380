"""The agent desktop's websocket: /ws/agent.

Handshake (FastAPI's security classes do not apply to websockets, LIBRARIES.md):
1. the browser's Origin must be this host or one of http.allowed_origins (a client that
   sends no Origin, i.e. not a browser, still needs a token);
2. either ?ticket=<single-use ticket from POST /api/auth/ws-ticket>, or within 5 s a
   first message {"type": "auth", "token": <access token>}; both may carry
   "resume": {"epoch": <str>, "seq": <int>} (query: &epoch=..&seq=..) to get what was
   missed (desk/push/replay.py);
3. the server answers {"type": "hello", "epoch", "seq", "replayed", "complete", "user"}.
Any failure closes the socket with 1008 and a reason. Later the client may send
{"type": "auth", "token": <fresh token>} to extend the session (same user), and
{"type": "ping"} (answered {"type": "pong"}). The socket is closed (1008) when the token
expires unless refreshed, or when it is signed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from agent_api.auth import AuthContext, Principal
from agent_api.tokens import TokenError
from db.models import Role
from desk.push.connection import CLOSE_POLICY, AgentConnection
from desk.push.hub import AgentHub, dumps
from desk.push.replay import Frame
from hotline.services import Services

router = APIRouter()
AUTH_TIMEOUT = 5.0
DESK_ROLES = (Role.AGENT, Role.SUPERVISOR)


class Refused(Exception):
    pass


def origin_allowed(ws: WebSocket, allowed: list[str]) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    if origin in allowed:
        return True
    host = ws.headers.get("host", "")
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == host and parts.scheme in ("http", "https")


def _resume(data: Any) -> tuple[str | None, int | None]:
    if not isinstance(data, dict):
        return None, None
    epoch, seq = data.get("epoch"), data.get("seq")
    try:
        return (str(epoch) if epoch else None), (int(seq) if seq is not None else None)
    except (TypeError, ValueError):
        return None, None


async def _authenticate(
    ws: WebSocket, auth: AuthContext, ticket: str | None
) -> tuple[Principal, str | None, int | None]:
    try:
        if ticket:
            principal = await auth.principal(ticket, "ws")
            return principal, *_resume(dict(ws.query_params))
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT)
        message = json.loads(raw)
        if not isinstance(message, dict) or message.get("type") != "auth":
            raise Refused('the first message must be {"type": "auth", "token": ...}')
        principal = await auth.principal(str(message.get("token") or ""))
        return principal, *_resume(message.get("resume"))
    except TokenError as exc:
        raise Refused(str(exc)) from None
    except TimeoutError:
        raise Refused("no auth message within 5 s") from None
    except (ValueError, KeyError):
        raise Refused('the first message must be JSON {"type": "auth", ...}') from None


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket, ticket: str | None = None) -> None:
    services: Services = ws.app.state.services
    hub: AgentHub = ws.app.state.hub
    auth: AuthContext = ws.app.state.auth
    await ws.accept()
    try:
        if not origin_allowed(ws, services.settings.http.allowed_origins):
            raise Refused("origin not allowed")
        principal, epoch, seq = await _authenticate(ws, auth, ticket)
        if principal.role not in DESK_ROLES:
            raise Refused("the agent desktop is for agents and supervisors")
    except Refused as exc:
        with contextlib.suppress(Exception):
            await ws.close(CLOSE_POLICY, str(exc)[:120])
        return
    except WebSocketDisconnect:
        return
    conn = AgentConnection(ws, principal, on_pop_sent=hub.pop_sent, max_queue=hub.max_queue)
    hub.attach(conn, epoch, seq)
    conn.start()
    try:
        await _receive(ws, conn, auth)
    finally:
        hub.detach(conn)
        await conn.stop()


async def _receive(ws: WebSocket, conn: AgentConnection, auth: AuthContext) -> None:
    receiving = asyncio.ensure_future(_read_loop(ws, conn, auth))
    closed = asyncio.ensure_future(conn.closed.wait())
    try:
        await asyncio.wait({receiving, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receiving, closed):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _read_loop(ws: WebSocket, conn: AgentConnection, auth: AuthContext) -> None:
    while True:
        try:
            message = json.loads(await ws.receive_text())
        except (WebSocketDisconnect, RuntimeError):
            return
        except ValueError:
            continue  # not JSON: ignored
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        if kind == "ping":
            conn.push(Frame(0, "pong", 0.0, text=dumps({"type": "pong"})))
        elif kind == "auth":
            try:
                fresh = await auth.principal(str(message.get("token") or ""))
            except TokenError as exc:
                conn.close(CLOSE_POLICY, str(exc)[:120])
                return
            if fresh.id != conn.principal.id:
                conn.close(CLOSE_POLICY, "a token of another user")
                return
            conn.principal, conn.expires_at = fresh, fresh.expires_at
