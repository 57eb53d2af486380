"""The desk's browser softphone (desk/static/phone.js): what it registers with, and the
SIP library it runs on.

`GET /api/phone/config` gives the signed-in agent (or supervisor) the SIP over WebSocket
address of Asterisk (pbx.webrtc.ws_url), their own SIP URI and extension, and the
agents' SIP password (pbx.webrtc.password, from the environment only): never another
user's. `GET /desk/vendor/jssip.min.js` serves JsSIP's browser bundle, which
scripts/bootstrap.sh installs from npm into desk/static/vendor/node_modules (never
committed); a route rather than the static mount so the page names one stable URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep
from agent_api.errors import ApiError, error_responses
from db.models import Role
from kernel.config.pbx import browser_endpoint

router = APIRouter(prefix="/api/phone", tags=["browser phone"])
# The page's own script, public like the page itself (no token: a <script src>).
vendor = APIRouter(include_in_schema=False)
Agent = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR)]
VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"
JSSIP_BUNDLE = VENDOR / "node_modules" / "jssip" / "dist" / "jssip.min.js"


class PhoneConfigOut(BaseModel):
    ws_url: str
    sip_uri: str
    extension: str
    username: str  # the browser phone's own endpoint: <extension>-web (pjsip.conf)
    password: str


@router.get(
    "/config",
    response_model=PhoneConfigOut,
    responses=error_responses(401, 403, 422, 503),
    summary="The signed-in user's browser phone: WebSocket address, SIP URI and password",
)
async def phone_config(user: Agent, services: ServicesDep) -> PhoneConfigOut:
    webrtc = services.settings.pbx.webrtc
    if not webrtc.enabled:
        raise ApiError(503, "browser_phone_off", "the browser phone is off (pbx.webrtc.enabled)")
    if not user.extension:
        raise ApiError(422, "no_extension", "your account has no phone extension")
    if webrtc.password is None:
        raise ApiError(
            503,
            "browser_phone_unconfigured",
            "the agents' SIP password is not set (HOTLINE_PBX__WEBRTC__PASSWORD)",
        )
    username = browser_endpoint(user.extension)
    return PhoneConfigOut(
        ws_url=webrtc.ws_url,
        sip_uri=f"sip:{username}@{webrtc.sip_domain}",
        extension=user.extension,
        username=username,
        password=webrtc.password.get_secret_value(),
    )


@vendor.get("/desk/vendor/jssip.min.js")
async def jssip_bundle() -> FileResponse:
    if not JSSIP_BUNDLE.is_file():
        raise ApiError(
            404,
            "not_installed",
            "JsSIP is not installed: run scripts/bootstrap.sh (npm ci in desk/static/vendor)",
        )
    return FileResponse(JSSIP_BUNDLE, media_type="text/javascript")
