"""A local SMS gateway for the SMS tests: an aiohttp server on 127.0.0.1 that checks
every request's signature and answers from a script (500, 400, 200 ...; then 200)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devtools.services.net import free_port
from integrations.signing import SIGNATURE_HEADER, verify
from kernel.clock import Clock

SECRET = "短信网关-s3cret"
SECRET_ENV = "HOTLINE_TEST_SMS_SECRET"
ENVIRON = {SECRET_ENV: SECRET}


@dataclass
class SmsReceiver:
    clock: Clock
    script: list[int] = field(default_factory=list)  # statuses to answer, then 200
    hold: asyncio.Event | None = None  # set: answers wait for it (a slow gateway)
    requests: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(SECRET, request.headers.get(SIGNATURE_HEADER), body, self.clock.timestamp()):
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        self.requests.append(
            {
                "body": json.loads(body.decode("utf-8")),
                "raw": body,
                "key": request.headers.get("Idempotency-Key"),
                "at": self.clock.now(),
            }
        )
        if self.hold is not None:
            await self.hold.wait()
        status = self.script.pop(0) if self.script else 200
        if status == 200:
            return web.json_response({"id": f"gw-{len(self.requests)}"})
        return web.Response(status=status, text="号码无效" if status == 400 else "网关繁忙")


async def serve(receiver: SmsReceiver) -> AsyncIterator[SmsReceiver]:
    app = web.Application()
    app.router.add_post("/sms", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.url = f"http://127.0.0.1:{port}/sms"
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        await runner.cleanup()


def sms_env(url: str | None, **extra: str) -> dict[str, str]:
    env = {
        "HOTLINE_SMS__SECRET_ENV": SECRET_ENV,
        "HOTLINE_SMS__SENDER": '"95777"',
    }  # YAML: a string
    if url is not None:
        env["HOTLINE_SMS__URL"] = url
    env.update({f"HOTLINE_SMS__{k.upper()}": v for k, v in extra.items()})
    return env


def bodies(receiver: SmsReceiver) -> list[Mapping[str, Any]]:
    return [r["body"] for r in receiver.requests]
