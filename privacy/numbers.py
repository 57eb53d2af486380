"""Customers' numbers as a viewer may see them: masked, or full and audited.

Every route that answers with a customer's number passes its answer through `for_viewer`:
a role outside privacy.full_number_roles gets the masked copy (privacy/redact.py); a role
inside gets the full numbers, and that display is an audit row "customer.number_shown"
(who, which objects), committed before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from agent_api.auth import Principal
from hotline.services import Services
from kernel.audit import audit
from privacy.redact import NumberPolicy, has_numbers, redact, redact_model

M = TypeVar("M", bound=BaseModel)
NUMBER_SHOWN = "customer.number_shown"


def full_numbers(user: Principal, services: Services) -> bool:
    return NumberPolicy(services.settings.privacy).full_for(user.role.value)


async def for_viewer(
    values: Sequence[M],
    *,
    user: Principal,
    services: Services,
    session: AsyncSession,
    object_type: str,
    object_id: str | int = "",
    source: str | None = None,
) -> list[M]:
    """`values` masked for this user, or full with an audit row when any carries a number."""
    if not full_numbers(user, services):
        return [redact_model(v) for v in values]
    dumped = [v.model_dump(mode="json") for v in values]
    if any(has_numbers(d) for d in dumped):
        await shown(
            session,
            user=user,
            services=services,
            object_type=object_type,
            object_id=object_id,
            source=source,
            ids=[d.get("id") for d in dumped if isinstance(d.get("id"), int)],
        )
    return list(values)


async def one_for_viewer(
    value: M,
    *,
    user: Principal,
    services: Services,
    session: AsyncSession,
    object_type: str,
    object_id: str | int = "",
    source: str | None = None,
) -> M:
    (out,) = await for_viewer(
        [value],
        user=user,
        services=services,
        session=session,
        object_type=object_type,
        object_id=object_id,
        source=source,
    )
    return out


async def shown(
    session: AsyncSession,
    *,
    user: Principal,
    services: Services,
    object_type: str,
    object_id: str | int = "",
    source: str | None = None,
    ids: list[Any] | None = None,
) -> None:
    await audit(
        session,
        actor=user.actor(),
        action=NUMBER_SHOWN,
        object_type=object_type,
        object_id=object_id,
        source=source,
        detail={"ids": (ids or [])[:200]},
        clock=services.clock,
    )


def masked_json(value: Any, user: Principal, services: Services) -> Any:
    """A JSON-ready value for this user (no audit: for callers that audit themselves)."""
    return value if full_numbers(user, services) else redact(value)
