"""Object-level rules on top of roles: whose calls and which customer files a user sees.

- Supervisors and administrators: everything. QA: every call, no customer files.
- Agents: only calls they were offered or answered; a customer file while on a call with
  that customer (the hub knows the offers; the call log is the fallback on another
  worker). Outside a call, when auth.agent_customer_access allows search: a file one of
  the agent's own searches returned in the last privacy.search_grant_minutes, or any file
  with a stated reason (recorded in the read's audit row); nothing else, so walking
  /api/customers/1..N gets 403s. More than privacy.reads_per_window reads and searches in
  privacy.read_window_minutes are refused with 429 and alert the supervisors (once per
  window), whatever the way in.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agent_api.auth import Principal
from agent_api.errors import AccessDenied, ApiError
from db.models import Call, CustomerPhone, Disposition, Role
from desk.push.hub import AgentHub
from hotline.services import Services
from kernel import topics
from kernel.audit import audit
from privacy import grants


def agent_calls_filter(user: Principal, hub: AgentHub) -> sa.ColumnElement[bool]:
    """SQL condition: calls this agent took part in."""
    conditions: list[sa.ColumnElement[bool]] = [col(Call.agent_id) == user.id]
    if user.extension:
        # agents is a JSON list of extensions: '["1001", "1002"]' on both databases.
        text = sa.cast(col(Call.agents), sa.Text)
        conditions.append(text.like(f'%"{user.extension}"%'))
    offered = hub.calls_of(user.id)
    if offered:
        conditions.append(col(Call.linkedid).in_(offered))
    return sa.or_(*conditions)


def can_search(user: Principal, services: Services) -> bool:
    if user.role is Role.AGENT:
        return services.settings.auth.agent_customer_access == "on_call_or_search"
    return user.role in (Role.SUPERVISOR, Role.ADMIN)


async def check_file_access(
    session: AsyncSession,
    user: Principal,
    customer_id: int,
    hub: AgentHub,
    services: Services,
    reason: str | None = None,
) -> str:
    """How the user may open this file ("role", "on_call", "search", "reason");
    AccessDenied if not, TooManyReads past the volume limit."""
    if user.is_staff():
        return "role"
    if user.role is not Role.AGENT:
        raise AccessDenied("customer files are open to agents, supervisors and administrators")
    await check_volume(session, user, services)
    if hub.on_call_with(user.id, customer_id) or await _on_call_in_log(
        session, user, customer_id, hub, services
    ):
        return "on_call"
    if not can_search(user, services):
        raise AccessDenied("you can open a customer's file only while on a call with them")
    if await grants.granted(session, user.id, customer_id, services.clock.now()):
        return "search"
    if reason and reason.strip():
        return "reason"
    raise AccessDenied(
        "open a customer's file from your own search results or while on a call with them, "
        "or state a reason (?reason=...): the reason is recorded"
    )


class TooManyReads(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(429, "too_many_reads", message)


async def check_volume(session: AsyncSession, user: Principal, services: Services) -> None:
    """An agent's file reads and searches: refused (429) past privacy.reads_per_window in
    the window; the first refusal in a window publishes an alert for the supervisors'
    board. Staff are not counted."""
    if user.role is not Role.AGENT:
        return
    limits = services.settings.privacy
    now = services.clock.now()
    since = now - dt.timedelta(minutes=limits.read_window_minutes)
    reads = await grants.count_actions(session, user.id, (grants.READ, grants.SEARCH), since)
    if reads < limits.reads_per_window:
        return
    first = await grants.count_actions(session, user.id, grants.THROTTLED, since) == 0
    await audit(
        session,
        actor=user.actor(),
        action=grants.THROTTLED,
        object_type="user",
        object_id=user.id,
        detail={"reads": reads, "window_minutes": limits.read_window_minutes},
        clock=services.clock,
    )
    if first:
        await services.bus.publish(
            topics.ALERT,
            {
                "type": grants.VOLUME_ALERT,
                "agent_id": user.id,
                "agent": user.username,
                "agent_name": user.display_name,
                "reads": reads,
                "window_minutes": limits.read_window_minutes,
                "at": services.clock.timestamp(),
                "notify": {"roles": ["supervisor", "admin"]},
            },
        )
    raise TooManyReads(
        f"{reads} customer files read or searched in {limits.read_window_minutes} minutes: "
        "a supervisor has been alerted; try again later"
    )


async def _on_call_in_log(
    session: AsyncSession,
    user: Principal,
    customer_id: int,
    hub: AgentHub,
    services: Services,
) -> bool:
    grace = dt.timedelta(seconds=services.settings.auth.on_call_grace_seconds)
    since = services.clock.now() - grace
    phones = select(CustomerPhone.number).where(CustomerPhone.customer_id == customer_id)
    stmt = (
        select(Call.id)
        .where(
            agent_calls_filter(user, hub),
            sa.or_(col(Call.customer_id) == customer_id, col(Call.caller_number).in_(phones)),
            sa.or_(col(Call.disposition) == Disposition.IN_PROGRESS, col(Call.ended_at) >= since),
        )
        .limit(1)
    )
    return (await session.exec(stmt)).first() is not None
