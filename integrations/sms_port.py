"""The SMS port: how the gateway hands one text to whoever carries it to the phone.

`SmsSender.send(message)` returns the carrier's id for the message (None if it gave
none), or raises `SmsRejected` (this message will never go: bad number, refused text)
or `SmsUnavailable` (try again later: server error, timeout, connection refused). The
gateway (integrations/sms.py) keeps the outbox, the retries and the alerts; a sender only
speaks its wire protocol.

`HttpSmsSender` is Hotline's own webhook protocol, signed like the ticket webhooks
(integrations/signing.py):
    POST <sms.url>  Content-Type: application/json; charset=utf-8
    {"id": <sms_messages.id>, "to": "<number>", "text": "<UTF-8 text>", "sender": ...}
    X-Hotline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
    X-Hotline-Event: sms.send
    X-Hotline-Delivery / Idempotency-Key: sms-<id> (the same on every retry of a message)
A 2xx is taken; its JSON body's "id" (or "message_id") is kept as gateway_id.

A vendor's API (Aliyun SMS, Tencent Cloud SMS, Twilio ...) is another class with the
same `send` and `close`, chosen in SmsGateway's constructor (`sender=`): nothing else
changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import httpx

from integrations.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign
from integrations.sms_rules import Verdict, verdict
from kernel.clock import Clock

EVENT = "sms.send"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    id: int
    to: str
    text: str
    sender: str | None = None

    @property
    def key(self) -> str:
        """The idempotency key: one per message, the same on every retry."""
        return f"sms-{self.id}"


class SmsRejected(Exception):
    """The carrier refused this message for good (the reason is the message)."""


class SmsUnavailable(Exception):
    """The carrier could not take the message now; it may later."""


class SmsSender(Protocol):
    async def send(self, message: OutgoingSms) -> str | None:
        """Hand the message over; the carrier's id for it. Raises SmsRejected or
        SmsUnavailable."""
        ...

    async def close(self) -> None: ...


def body_of(message: OutgoingSms) -> bytes:
    """The signed bytes: compact JSON, Chinese as UTF-8 (not \\u escapes)."""
    payload = {"id": message.id, "to": message.to, "text": message.text, "sender": message.sender}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _gateway_id(response: httpx.Response) -> str | None:
    try:
        reply = response.json()
    except ValueError:
        return None
    if not isinstance(reply, dict):
        return None
    value = reply.get("id", reply.get("message_id"))
    return None if value is None else str(value)[:80]


class HttpSmsSender:
    """Hotline's signed SMS webhook (see the module's docstring)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        clock: Clock,
        timeout: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._timeout = timeout
        self._client = client or httpx.AsyncClient(follow_redirects=False)

    async def send(self, message: OutgoingSms) -> str | None:
        body = body_of(message)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self._secret, body, self._clock.timestamp()),
            EVENT_HEADER: EVENT,
            DELIVERY_HEADER: message.key,
            IDEMPOTENCY_HEADER: message.key,
            "User-Agent": "Hotline-SMS/1",
        }
        try:
            response = await self._client.post(
                self._url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise SmsUnavailable(f"{type(exc).__name__}: {exc}"[:200]) from exc
        result = verdict(response.status_code)
        if result is Verdict.SENT:
            return _gateway_id(response)
        reason = f"HTTP {response.status_code}: {response.text[:150]}"
        if result is Verdict.REJECTED:
            raise SmsRejected(reason)
        raise SmsUnavailable(reason)

    async def close(self) -> None:
        await self._client.aclose()
