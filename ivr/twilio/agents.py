"""Twilio rings Hotline's agents for Twilio callers: routing/pbx/twilio_offers.py's TwilioAgents
port over Twilio's REST API (the twilio client, async).

    POST {api_base_url}/2010-04-01/Accounts/{account_sid}/Calls.json
         To=<twilio.agent_sip_uri with the extension>  From=<the number the caller dialled>
         Twiml=<Response><Dial><Queue>hotline-<caller CallSid></Queue></Dial></Response>
         Timeout=<routing.offer_timeout_seconds>
         StatusCallback={public_base_url}/twilio/agent/status?call=<caller>&agent=<ext>
         StatusCallbackEvent=ringing, answered, completed
    POST {api_base_url}/2010-04-01/Accounts/{account_sid}/Calls/<leg>.json  Status=canceled

The caller waits in a Twilio queue of its own (ivr/twilio/twiml.py caller_queue), so the
agent's leg dequeues exactly this caller. Twilio reports the leg to /twilio/agent/status
(ivr/twilio/routes.py), which publishes the caller's call.offered / call.answered /
call.agent_no_answer. twilio.api_base_url points the client elsewhere (a local fake in
tests/integration/ivr/test_twilio_agents.py). Every REST call is bounded (REST_TIMEOUT).

The HTTP client is ours (`TwilioHttp`, twilio's AsyncHttpClient port over aiohttp):
twilio 9.13's AsyncTwilioHttpClient authenticates with aiohttp's BasicAuth, deprecated
since aiohttp 3.12 (a warning on every call), and leaves list fields (StatusCallbackEvent)
to aiohttp's form encoder, which sends one value; here they repeat, as Twilio expects.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import urlencode

from aiohttp import ClientError, ClientSession, ClientTimeout
from twilio.base.exceptions import TwilioException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ivr.twilio.twiml import agent_leg
from kernel.config.settings import Settings
from routing.pbx.twilio_offers import TwilioDialError

REST_TIMEOUT = 10.0  # seconds for one REST request to Twilio
LEG_EVENTS = ["ringing", "answered", "completed"]
T = TypeVar("T")
log = logging.getLogger("hotline.twilio")


class TwilioHttp(AsyncHttpClient):  # type: ignore[misc]
    """The twilio client's HTTP requests, one aiohttp session each (nothing to close, no
    session outliving its event loop), bounded by REST_TIMEOUT."""

    def __init__(self) -> None:
        super().__init__(log, True, REST_TIMEOUT)

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {credentials}"
        form = [
            (key, str(item))
            for key, value in (data or {}).items()
            for item in (value if isinstance(value, list | tuple) else [value])
        ]
        query = {k: str(v) for k, v in (params or {}).items()}
        limit = ClientTimeout(total=timeout or REST_TIMEOUT)
        async with (
            ClientSession(timeout=limit) as session,
            session.request(
                method.upper(),
                uri,
                params=query,
                data=form or None,
                headers=headers,
                allow_redirects=allow_redirects,
            ) as response,
        ):
            return Response(response.status, await response.text(), response.headers)


class TwilioAgentDialer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    def _twilio(self) -> Client:
        """Built on first use, inside the event loop (its HTTP client is aiohttp's)."""
        if self._client is None:
            tw = self.settings.twilio
            token = tw.auth_token.get_secret_value() if tw.auth_token else ""
            client = Client(tw.account_sid, token, http_client=TwilioHttp())
            client.api.base_url = tw.api_base_url.rstrip("/")
            self._client = client
        return self._client

    async def ring(
        self, call_id: str, extension: str, *, caller_id: str, timeout_seconds: int
    ) -> str:
        tw = self.settings.twilio
        status = f"{tw.public_base_url.rstrip('/')}/twilio/agent/status?" + urlencode(
            {"call": call_id, "agent": extension}
        )
        request = self._twilio().calls.create_async(
            to=tw.agent_sip_uri.replace("{extension}", extension),
            from_=caller_id,
            twiml=agent_leg(call_id),
            timeout=timeout_seconds,
            status_callback=status,
            status_callback_event=LEG_EVENTS,
            status_callback_method="POST",
        )
        leg = await self._bounded(request, f"call agent {extension}")
        return str(leg.sid)

    async def cancel(self, leg_sid: str) -> None:
        request = self._twilio().calls(leg_sid).update_async(status="canceled")
        await self._bounded(request, f"cancel {leg_sid}")

    async def close(self) -> None:
        self._client = None  # no pooled session to close

    @staticmethod
    async def _bounded(request: Awaitable[T], what: str) -> T:
        try:
            return await asyncio.wait_for(request, REST_TIMEOUT)
        except (TwilioException, ClientError, OSError, TimeoutError) as exc:
            raise TwilioDialError(f"Twilio: {what}: {exc or type(exc).__name__}") from exc
