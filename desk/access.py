"""Object-level rules on top of roles: whose calls and which customer files a user sees.

- Supervisors and administrators: everything. QA: every call, no customer files.
- Agents: only calls they were offered or answered; a customer file while on a call with
  that customer (the hub knows the offers; the call log is the fallback on another
  worker), plus any file found by search when auth.agent_customer_access allows it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agent_api.auth import Principal
from agent_api.errors import AccessDenied
from db.models import Call, CustomerPhone, Disposition, Role
from desk.push.hub import AgentHub
from hotline.services import Services


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
) -> str:
    """How the user may open this file ("role", "on_call", "search"); AccessDenied if not."""
    if user.is_staff():
        return "role"
    if user.role is not Role.AGENT:
        raise AccessDenied("customer files are open to agents, supervisors and administrators")
    if hub.on_call_with(user.id, customer_id) or await _on_call_in_log(
        session, user, customer_id, hub, services
    ):
        return "on_call"
    if can_search(user, services):
        return "search"
    raise AccessDenied("you can open a customer's file only while on a call with them")


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
