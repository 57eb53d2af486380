"""Against harvesting the customer base: what an agent's own searches returned, and how
many files the agent read lately (desk/access.py decides with these).

Grants are rows (customer_file_grants), so every api process sees the same: a search on
one worker opens the file on another. The read count is the audit trail's own
("customer.read" rows of this user), so nothing else has to be kept in step with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AuditLog, CustomerFileGrant

READ = "customer.read"
SEARCH = "customer.search"
THROTTLED = "customer.read_throttled"
VOLUME_ALERT = "customer.read_volume"


async def remember_search(
    session: AsyncSession,
    user_id: int,
    customer_ids: Iterable[int],
    now: dt.datetime,
    minutes: int,
) -> None:
    """The files a search returned open for `minutes` (in the caller's transaction).
    This user's expired grants go: they grant nothing and are not history."""
    await session.exec(
        delete(CustomerFileGrant).where(
            col(CustomerFileGrant.user_id) == user_id, col(CustomerFileGrant.expires_at) <= now
        )
    )
    until = now + dt.timedelta(minutes=minutes)
    session.add_all(
        CustomerFileGrant(user_id=user_id, customer_id=cid, granted_at=now, expires_at=until)
        for cid in sorted(set(customer_ids))
    )


async def granted(session: AsyncSession, user_id: int, customer_id: int, now: dt.datetime) -> bool:
    stmt = (
        select(CustomerFileGrant.id)
        .where(
            CustomerFileGrant.user_id == user_id,
            CustomerFileGrant.customer_id == customer_id,
            col(CustomerFileGrant.expires_at) > now,
        )
        .limit(1)
    )
    return (await session.exec(stmt)).first() is not None


async def count_actions(
    session: AsyncSession, user_id: int, action: str | tuple[str, ...], since: dt.datetime
) -> int:
    """How many audit rows `action` (or any of several) this user has since `since`."""
    actions = (action,) if isinstance(action, str) else action
    stmt = select(sa.func.count()).where(
        col(AuditLog.actor_id) == user_id,
        col(AuditLog.action).in_(actions),
        col(AuditLog.at) >= since,
    )
    return int((await session.exec(stmt)).one())
