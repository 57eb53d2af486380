"""Putting a text message in the outbox (sms_messages), in the caller's transaction.

Whoever wants a customer texted (the campaign engine after a contact's last attempt, the
ticket state-change rule) calls `queue_sms` in its own session and, once committed,
publishes `sms_queued(...)` on topics.SMS so the gateway (integrations/sms.py) wakes; a
message whose wake-up was lost is still sent on the gateway's next round.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from db.models.campaigns import SmsMessage, SmsState

MAX_TEXT = 500  # characters: a long Chinese SMS is split by the gateway, not cut here


async def queue_sms(
    session: AsyncSession,
    *,
    number: str,
    text: str,
    reason: str,
    now: dt.datetime,
    customer_id: int | None = None,
    campaign_id: int | None = None,
    ticket_id: int | None = None,
) -> int:
    """Adds a pending message (sent as soon as the gateway runs); returns its id."""
    message = SmsMessage(
        number=number,
        text=text[:MAX_TEXT],
        reason=reason,
        customer_id=customer_id,
        campaign_id=campaign_id,
        ticket_id=ticket_id,
        state=SmsState.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    assert message.id is not None
    return message.id


def sms_queued(sms_id: int) -> dict[str, Any]:
    """The topics.SMS message that wakes the gateway."""
    return {"type": "sms.queued", "sms_id": sms_id}
