"""The screen-pop's content: the router's offer (call snapshot) enriched with who calls.

Enrichment reads the database, so it is done early: as soon as a call is queued (its
customer is known from the IVR, or its number), `prefetch` loads the caller's context
into a small TTL cache; when the offer comes, the pop is usually rendered without
touching the database. A load that fails or takes longer than `load_timeout` still
gives a pop (number, IVR results, tier from the snapshot) marked partial: the agent is
never left without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from customers import file as files
from customers.lookup import candidates
from customers.views import CustomerDetails, CustomerSummary
from db.phones import normalize_phone
from desk.push.facts import ivr_summary
from kernel.clock import Clock
from kernel.config import Settings

log = logging.getLogger("hotline.api.pop")
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class CallerContext:
    customer: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    open_tickets: list[dict[str, Any]] = field(default_factory=list)
    recent_calls: list[dict[str, Any]] = field(default_factory=list)
    partial: bool = False

    @property
    def customer_id(self) -> int | None:
        return int(self.customer["id"]) if self.customer else None


def caller_key(call: dict[str, Any]) -> Key | None:
    customer = str(call.get("customer_id") or "")
    if customer.isdigit():
        return ("c", customer)
    number = normalize_phone(str(call.get("caller_number") or ""))
    return ("n", number) if number else None


class PopBuilder:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        ttl: float = 180.0,
        max_entries: int = 20_000,
        load_timeout: float = 1.0,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self.load_timeout = load_timeout
        self._cache: OrderedDict[Key, tuple[float, CallerContext]] = OrderedDict()
        self._loading: dict[Key, asyncio.Task[CallerContext]] = {}
        self.hits = self.misses = 0  # pops rendered from the prefetch vs. waiting for it
        # Labels as plain dicts once, not per pop (the pop path runs cold, keep it short).
        self._tiers = {
            name: {"label": t.label.model_dump(), "priority": t.priority}
            for name, t in settings.tiers.items()
        }
        self._skills = {s.name: s.label.model_dump() for s in settings.skills}
        self._ivr: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()

    # -- the cache ------------------------------------------------------------------------

    def cached(self, call: dict[str, Any]) -> CallerContext | None:
        key = caller_key(call)
        if key is None:
            return CallerContext()  # anonymous caller: nothing to look up
        hit = self._cache.get(key)
        if hit is None or hit[0] < self._clock.timestamp():
            return None
        return hit[1]

    def lookup(self, call: dict[str, Any]) -> CallerContext | None:
        """`cached`, counted as a hit or a miss (for the pop path's metrics)."""
        ctx = self.cached(call)
        if ctx is None:
            self.misses += 1
        else:
            self.hits += 1
        return ctx

    def prefetch(self, call: dict[str, Any]) -> None:
        key = caller_key(call)
        if key is None or key in self._loading or self.cached(call) is not None:
            return
        task = asyncio.create_task(self._load(key), name=f"pop-prefetch-{key[1]}")
        self._loading[key] = task
        task.add_done_callback(lambda _t, k=key: self._loading.pop(k, None))  # type: ignore[misc]

    async def context(self, call: dict[str, Any]) -> CallerContext:
        hit = self.cached(call)
        if hit is not None:
            return hit
        key = caller_key(call)
        assert key is not None
        task = self._loading.get(key)
        if task is None:
            self.prefetch(call)
            task = self._loading[key]
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.load_timeout)
        except Exception:
            log.warning("caller context for %s not loaded in time; partial pop", key)
            return CallerContext(partial=True)

    def forget(self, call: dict[str, Any]) -> None:
        """Drop the cached context (a ticket was created: the next pop must show it)."""
        key = caller_key(call)
        if key is not None:
            self._cache.pop(key, None)

    async def _load(self, key: Key) -> CallerContext:
        try:
            ctx = await self._read(key)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("loading the caller context %s failed", key)
            return CallerContext(partial=True)
        self._cache[key] = (self._clock.timestamp() + self._ttl, ctx)
        self._cache.move_to_end(key)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return ctx

    async def _read(self, key: Key) -> CallerContext:
        desk = self._settings.desk
        calls_limit, tickets_limit = desk.pop_recent_calls + 1, desk.pop_open_tickets
        async with self._sessions() as session:
            kind, value = key
            if kind == "c":
                with contextlib.suppress(files.CustomerNotFound):
                    return await self._customer(session, int(value), calls_limit, tickets_limit)
                return CallerContext()
            matches = await candidates(session, value, limit=5)
            if len(matches) == 1 and matches[0].id is not None:
                return await self._customer(session, matches[0].id, calls_limit, tickets_limit)
            recent = await files.recent_calls(session, number=value, limit=calls_limit)
            return CallerContext(
                candidates=[CustomerSummary.of(c).model_dump(mode="json") for c in matches],
                recent_calls=[c.model_dump(mode="json") for c in recent],
            )

    async def _customer(
        self, session: AsyncSession, customer_id: int, calls: int, tickets: int
    ) -> CallerContext:
        customer = await files.get_customer(session, customer_id)
        open_ = await files.open_tickets(session, customer_id, tickets)
        recent = await files.recent_calls(session, customer_id=customer_id, limit=calls)
        return CallerContext(
            customer=CustomerDetails.of(customer).model_dump(mode="json"),
            open_tickets=[t.model_dump(mode="json") for t in open_],
            recent_calls=[c.model_dump(mode="json") for c in recent],
        )

    # -- rendering ------------------------------------------------------------------------

    def _waited(self, offer: dict[str, Any], call: dict[str, Any]) -> float | None:
        """How long the caller has waited for an agent (the router's figure, else since
        the call was queued)."""
        if offer.get("wait_seconds") is not None:
            return round(float(offer["wait_seconds"]), 1)
        if call.get("queued_at"):
            return round(max(0.0, self._clock.timestamp() - float(call["queued_at"])), 1)
        return None

    def _ivr_summary(self, call: dict[str, Any]) -> dict[str, Any]:
        """ivr_summary, remembered: callers take the same few paths through the menu."""
        key = (tuple(call.get("ivr_path") or ()), call.get("ivr_outcome"), call.get("ivr_facts"))
        summary = self._ivr.get(key)
        if summary is None:
            summary = self._ivr[key] = ivr_summary(self._settings, call)
            while len(self._ivr) > 1000:
                self._ivr.popitem(last=False)
        return summary

    def render(self, offer: dict[str, Any], ctx: CallerContext) -> dict[str, Any]:
        call: dict[str, Any] = offer.get("call") or {}
        call_id = str(offer.get("call_id") or call.get("call_id") or "")
        customer = ctx.customer
        tier_code = (customer or {}).get("tier") or call.get("tier")
        tier = self._tiers.get(str(tier_code)) if tier_code else None
        skill = offer.get("skill") or call.get("skill")
        recent = [c for c in ctx.recent_calls if c.get("linkedid") != call_id]
        return {
            "call_id": call_id,
            "kind": offer.get("kind", "inbound"),
            "skill": skill,
            "skill_label": self._skills.get(str(skill)),
            "priority": offer.get("priority", call.get("priority")),
            "language": call.get("language"),
            "caller": {
                "number": call.get("caller_number") or "",
                "name": call.get("caller_name") or "",
                "known": customer is not None,
            },
            "customer": customer,
            "candidates": ctx.candidates,
            "tier": {"code": tier_code, **tier} if tier else None,
            "ivr": self._ivr_summary(call),
            "open_tickets": ctx.open_tickets,
            "recent_calls": recent[: self._settings.desk.pop_recent_calls],
            "wait_seconds": self._waited(offer, call),
            "estimated_wait": offer.get("estimated_wait"),
            "partial": ctx.partial,
            "call": call,
        }
