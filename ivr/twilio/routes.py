"""Twilio webhooks: the IVR over TwiML, one menu step per request (ivr/twilio/calls.py).

Point the Twilio number's voice webhook at POST {public_base_url}/twilio/voice and its
status callback at POST {public_base_url}/twilio/status (events: completed). Gather's
action (/twilio/ivr/step) and Enqueue's action (/twilio/ivr/queue) are put in the TwiML;
/twilio/agent/status?call=<CallSid>&agent=<extension> in the calls Hotline has Twilio
place to its agents (ivr/twilio/agents.py).

Every request must carry a valid X-Twilio-Signature: HMAC-SHA1 with the account's auth
token (HOTLINE_TWILIO__AUTH_TOKEN) over twilio.public_base_url + path + query, plus every
form field. The public URL is configured, not taken from the request, because a proxy in
front of Hotline changes host and scheme. A bad or missing signature is 403 before
anything is read or written. With twilio.enabled false the routes answer 404.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from twilio.request_validator import RequestValidator

from hotline.services import Services
from ivr.replay import MemoryReplayStore, RedisReplayStore, ReplayStore
from ivr.twilio.calls import TwilioIvr
from ivr.twilio.twiml import Urls

TWIML = "application/xml"


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.state.services
    store: ReplayStore
    if services.settings.redis.url:  # several workers: a call's steps may hit any of them
        store = RedisReplayStore(services.settings.redis.url)
    else:
        store = MemoryReplayStore()
    app.state.twilio_ivr = TwilioIvr(services, store)
    try:
        yield
    finally:
        await store.close()


router = APIRouter(prefix="/twilio", tags=["twilio"], lifespan=_lifespan)


def public_url(request: Request) -> str:
    """The URL Twilio called, as Twilio saw it."""
    base = request.app.state.services.settings.twilio.public_base_url.rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def signed_form(request: Request) -> dict[str, str]:
    """The form fields of a request Twilio signed; 403 otherwise, 404 when disabled."""
    twilio = request.app.state.services.settings.twilio
    if not twilio.enabled:
        raise HTTPException(404, "Twilio is not enabled (twilio.enabled)")
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    token = twilio.auth_token.get_secret_value() if twilio.auth_token else ""
    if not token or not signature:
        raise HTTPException(403, "missing Twilio signature")
    if not RequestValidator(token).validate(public_url(request), fields, signature):
        raise HTTPException(403, "bad Twilio signature")
    if not fields.get("CallSid"):
        raise HTTPException(400, "no CallSid")
    return fields


Form = Annotated[dict[str, str], Depends(signed_form)]


def _ivr(request: Request) -> TwilioIvr:
    ivr: TwilioIvr = request.app.state.twilio_ivr
    return ivr


def _urls(request: Request) -> Urls:
    base = request.app.state.services.settings.twilio.public_base_url.rstrip("/")
    return Urls(step=f"{base}/twilio/ivr/step", queue_result=f"{base}/twilio/ivr/queue")


def _twiml(text: str) -> Response:
    return Response(content=text, media_type=TWIML)


@router.post("/voice", include_in_schema=False)
async def voice(request: Request, form: Form) -> Response:
    """An incoming call: start the IVR."""
    return _twiml(await _ivr(request).voice(form, _urls(request)))


@router.post("/ivr/step", include_in_schema=False)
async def step(
    request: Request,
    form: Form,
    n: Annotated[int, Query(ge=0)] = 0,
    silence: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    """Gather's action (Digits) or, after its timeout, the Redirect (silence=1)."""
    return _twiml(await _ivr(request).step(form, n, bool(silence), _urls(request)))


@router.post("/ivr/queue", include_in_schema=False)
async def queue_result(request: Request, form: Form) -> Response:
    """Enqueue's action: the caller left the queue (bridged to an agent, hung up, ...)."""
    await _ivr(request).queue_result(form)
    return _twiml('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>')


@router.post("/agent/status", include_in_schema=False, status_code=204)
async def agent_status(
    request: Request,
    form: Form,
    call: Annotated[str, Query(pattern=r"^CA[0-9a-fA-F]{32}$")],
    agent: Annotated[str, Query(pattern=r"^[0-9]{1,20}$")],
) -> Response:
    """Status callbacks of a call to an agent for a waiting caller (ringing, answered,
    not answered): the router and the call log hear them as the caller's events."""
    await _ivr(request).agent_status(form, call, agent)
    return Response(status_code=204)


@router.post("/status", include_in_schema=False, status_code=204)
async def status(request: Request, form: Form) -> Response:
    """Status callbacks: the end of the call closes its call record."""
    await _ivr(request).status(form)
    return Response(status_code=204)
