"""Human labels for report keys: queue, skill and category labels from config.yaml (zh or
en), agents' display names from users."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import metadata
from kernel.config import Settings
from reports.sql import Dimension

USERS = metadata.tables["users"]


async def labels_for(
    dimension: Dimension, keys: list[str], settings: Settings, engine: AsyncEngine, lang: str
) -> dict[str, str]:
    total = "全部" if lang.startswith("zh") else "All"
    unassigned = "未分配" if lang.startswith("zh") else "(none)"
    if dimension is Dimension.TOTAL:
        return {"": total}
    if dimension is Dimension.QUEUE:
        known = {q.name: q.label.get(lang) for q in settings.queues}
    elif dimension is Dimension.SKILL:
        known = {s.name: s.label.get(lang) for s in settings.skills}
    elif dimension is Dimension.CATEGORY:
        known = {c.name: c.label.get(lang) for c in settings.tickets.categories}
    else:
        ids = [int(k) for k in keys if k.isdigit()]
        known = {}
        if ids:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(USERS.c.id, USERS.c.display_name).where(USERS.c.id.in_(ids))
                )
                known = {str(r.id): str(r.display_name) for r in rows}
    return {k: known.get(k, k) if k else unassigned for k in keys}
