"""Twilio's REST API, as far as Hotline uses it, on 127.0.0.1: nothing leaves loopback.

    api = FakeTwilioApi()
    base = await api.start()          # http://127.0.0.1:<port>; twilio.api_base_url
    ...                               # Hotline creates and cancels calls
    api.requests                      # what it asked, in order (form fields as lists)
    await api.stop()

Calls.json creates a call (201, a new CallSid); Calls/<sid>.json updates one (200).
`fail_with = 503` answers the next requests with that status, like Twilio on a bad day.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field

from aiohttp import web

ACCOUNT = "AC" + "0" * 32


@dataclass
class ApiRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    user: str  # the account SID of HTTP basic auth
    sid: str = ""  # the call created or updated

    def one(self, key: str) -> str:
        (value,) = self.form[key]
        return value


@dataclass
class FakeTwilioApi:
    requests: list[ApiRequest] = field(default_factory=list)
    fail_with: int | None = None
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls.json", self._create)
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls/{sid}.json", self._update)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]  # port 0: the system chose a free one
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def created(self) -> list[ApiRequest]:
        return [r for r in self.requests if r.path.endswith("/Calls.json")]

    def updated(self) -> list[ApiRequest]:
        return [r for r in self.requests if not r.path.endswith("/Calls.json")]

    async def _record(self, request: web.Request) -> ApiRequest | web.Response:
        form = await request.post()
        auth = request.headers.get("Authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0]
        fields: dict[str, list[str]] = {}
        for key, value in form.items():
            fields.setdefault(key, []).append(str(value))
        self.requests.append(ApiRequest(request.method, request.path, fields, user))
        if self.fail_with is not None:
            return web.json_response({"message": "unavailable"}, status=self.fail_with)
        return self.requests[-1]

    async def _create(self, request: web.Request) -> web.Response:
        got = await self._record(request)
        if isinstance(got, web.Response):
            return got
        sid = got.sid = "CA" + secrets.token_hex(16)
        return web.json_response(
            {
                "sid": sid,
                "account_sid": request.match_info["account"],
                "to": got.one("To"),
                "from": got.one("From"),
                "status": "queued",
            },
            status=201,
        )

    async def _update(self, request: web.Request) -> web.Response:
        got = await self._record(request)
        if isinstance(got, web.Response):
            return got
        sid = got.sid = request.match_info["sid"]
        status = got.form.get("Status", ["in-progress"])[0]
        return web.json_response(
            {"sid": sid, "account_sid": request.match_info["account"], "status": status}
        )
