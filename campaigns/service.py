"""The campaigns' use cases for people (the API): create and edit, start, pause, resume,
stop (every action audited, campaign.changed published so the engine wakes), contact
lists from a customer filter or a CSV file, progress and results, the do-not-call list.

State machine: draft -> running (start, at least one contact); running <-> paused;
running | paused -> stopped (contacts not final are cancelled, never deleted);
completed is the engine's. Anything else is IllegalCampaignTransition (409)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from campaigns import lists, results, store
from campaigns.errors import (
    CampaignNotFound,
    DoNotCallNotFound,
    IllegalCampaignTransition,
    InvalidCampaign,
)
from campaigns.lists import ContactRow, ImportFormatError
from campaigns.schemas import CampaignChange, CampaignIn, CustomerFilter
from campaigns.scripts import ScriptError, parse_script
from db.models.campaigns import CampaignKind, CampaignState, ContactState, DialMode
from db.phones import normalize_phone
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor, audit_row, write_audit
from kernel.masking import mask_phone

# action: (states it is allowed from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[CampaignState, ...], CampaignState]] = {
    "start": ((CampaignState.DRAFT,), CampaignState.RUNNING),
    "pause": ((CampaignState.RUNNING,), CampaignState.PAUSED),
    "resume": ((CampaignState.PAUSED,), CampaignState.RUNNING),
    "stop": ((CampaignState.RUNNING, CampaignState.PAUSED), CampaignState.STOPPED),
}
EDITABLE = (CampaignState.DRAFT, CampaignState.PAUSED)
MAX_ERRORS_SHOWN = 1000


class CampaignService:
    def __init__(self, services: Services) -> None:
        self._services = services

    # -- campaigns -----------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self._services.clock.now()

    def _script(self, kind: CampaignKind, script: dict[str, Any]) -> dict[str, Any]:
        categories = [c.name for c in self._services.settings.tickets.categories]
        try:
            parsed = parse_script(kind, script, categories=categories)
        except ScriptError as exc:
            raise InvalidCampaign(exc.message) from None
        return parsed.model_dump(mode="json")

    async def create(self, actor: Actor, body: CampaignIn) -> dict[str, Any]:
        script = self._script(body.kind, body.script)
        agent = body.kind is CampaignKind.AGENT
        if body.sms_fallback and not (body.sms_text or "").strip():
            raise InvalidCampaign("sms_fallback needs sms_text")
        values = {
            "name": body.name,
            "kind": body.kind.value,
            "state": CampaignState.DRAFT.value,
            "dial_mode": (body.dial_mode or DialMode.PREVIEW).value if agent else None,
            "skill": body.skill,
            "caller_id": body.caller_id,
            "script": script,
            "rules": body.rules.as_rules(),
            "source": {},
            "sms_fallback": body.sms_fallback,
            "sms_text": body.sms_text,
            "created_by_id": actor.id,
            "created_at": self._now(),
        }
        async with self._services.engine.begin() as conn:
            result = await conn.execute(store.CAMPAIGNS.insert().values(**values))
            pk = result.inserted_primary_key
            assert pk is not None
            campaign_id = int(pk[0])
            await self._audit(conn, actor, "campaign.create", campaign_id, {"name": body.name})
        await self._changed(campaign_id, CampaignState.DRAFT)
        return await self.get(campaign_id)

    async def edit(self, actor: Actor, campaign_id: int, body: CampaignChange) -> dict[str, Any]:
        async with self._services.engine.begin() as conn:
            row = await self._campaign(conn, campaign_id)
            if row["state"] not in EDITABLE:
                raise IllegalCampaignTransition(
                    f"campaign {campaign_id} is {row['state']}: edit it while draft or paused"
                )
            kind = CampaignKind(row["kind"])
            values: dict[str, Any] = {}
            sent = body.model_fields_set
            for name in ("name", "skill", "caller_id", "sms_fallback", "sms_text"):
                if name in sent:
                    values[name] = getattr(body, name)
            if "name" in values and values["name"] is None:
                raise InvalidCampaign("name must not be empty")
            if "sms_fallback" in values and values["sms_fallback"] is None:
                values["sms_fallback"] = False
            if "dial_mode" in sent and kind is CampaignKind.AGENT and body.dial_mode:
                values["dial_mode"] = body.dial_mode.value
            if "script" in sent and body.script is not None:
                values["script"] = self._script(kind, body.script)
            if "rules" in sent:
                values["rules"] = body.rules.as_rules() if body.rules else {}
            fallback = values.get("sms_fallback", row["sms_fallback"])
            text = values.get("sms_text", row["sms_text"])
            if fallback and not (text or "").strip():
                raise InvalidCampaign("sms_fallback needs sms_text")
            if values:
                await store.set_state(conn, campaign_id, [row["state"]], values)
            await self._audit(conn, actor, "campaign.edit", campaign_id, {"fields": sorted(values)})
        return await self.get(campaign_id)

    async def transition(self, actor: Actor, campaign_id: int, action: str) -> dict[str, Any]:
        allowed, target = TRANSITIONS[action]
        now = self._now()
        cancelled = 0
        async with self._services.engine.begin() as conn:
            row = await self._campaign(conn, campaign_id)
            if action == "start":
                totals = await store.contact_totals(conn, campaign_id)
                if row["state"] == CampaignState.DRAFT and totals["contacts"] == 0:
                    raise IllegalCampaignTransition(
                        f"campaign {campaign_id} has no contacts: add a list before starting"
                    )
            values: dict[str, Any] = {"state": target.value}
            if action == "start":
                values["started_at"] = now
            if action == "stop":
                values["ended_at"] = now
            moved = await store.set_state(conn, campaign_id, [s.value for s in allowed], values)
            if not moved:
                names = " or ".join(s.value for s in allowed)
                raise IllegalCampaignTransition(
                    f"cannot {action} campaign {campaign_id}: it is {row['state']}"
                    f" (only from {names})"
                )
            if action == "stop":
                cancelled = await store.cancel_open_contacts(conn, campaign_id, now)
            detail = {"from": str(row["state"]), "to": target.value}
            if action == "stop":
                detail["cancelled"] = str(cancelled)
            await self._audit(conn, actor, f"campaign.{action}", campaign_id, detail)
        await self._changed(campaign_id, target)
        return await self.get(campaign_id)

    async def listing(self) -> list[dict[str, Any]]:
        async with self._services.engine.connect() as conn:
            rows = await store.campaigns(conn)
            counts = await store.state_counts(conn, [r["id"] for r in rows])
        out = []
        for r in rows:
            states = counts.get(r["id"], {})
            total = sum(states.values())
            view = _view(r)
            view.update(contacts=total, states=states)
            out.append(view)
        return out

    async def get(self, campaign_id: int) -> dict[str, Any]:
        async with self._services.engine.connect() as conn:
            row = await self._campaign(conn, campaign_id)
            progress = await self._summary(conn, row)
        return {**_view(row), "progress": progress}

    async def _summary(self, conn: AsyncConnection, row: dict[str, Any]) -> dict[str, Any]:
        cid = row["id"]
        totals = await store.contact_totals(conn, cid)
        states = (await store.state_counts(conn, [cid])).get(cid, {})
        outcomes = await store.outcome_counts(conn, cid)
        attempts = await store.attempts_by_outcome(conn, cid)
        survey = None
        if row["kind"] == CampaignKind.SURVEY:
            questions = list((row["script"] or {}).get("questions") or [])
            survey = results.survey_averages(questions, await store.answers(conn, cid))
        return results.summary(totals, states, outcomes, attempts, survey)

    async def _campaign(self, conn: AsyncConnection, campaign_id: int) -> dict[str, Any]:
        row = await store.campaign(conn, campaign_id)
        if row is None:
            raise CampaignNotFound(campaign_id)
        return row

    async def _audit(
        self,
        conn: AsyncConnection,
        actor: Actor,
        action: str,
        object_id: int | str,
        detail: dict[str, Any],
        object_type: str = "campaign",
    ) -> None:
        row = audit_row(
            actor=actor, action=action, object_type=object_type, object_id=object_id,
            detail=detail, at=self._now(),
        )  # fmt: skip
        await write_audit(conn, [row])

    async def _changed(self, campaign_id: int, state: CampaignState) -> None:
        await self._services.bus.publish(
            topics.CAMPAIGN,
            {"type": "campaign.changed", "campaign_id": campaign_id, "state": state.value},
        )

    # -- contact lists -------------------------------------------------------------------

    async def _filter_rows(
        self, conn: AsyncConnection, flt: CustomerFilter
    ) -> tuple[list[ContactRow], int]:
        """The filter's customers as contacts (those with a phone), and how many matched."""
        customers = await store.filtered_customers(
            conn,
            district=flt.district,
            tier=flt.tier.value if flt.tier else None,
            arrears_above=flt.arrears_above,
            ticket_category=flt.ticket_category,
        )
        phones = await store.primary_phones(conn, [c["id"] for c in customers])
        window = None
        if flt.district:
            tz = self._services.settings.center.timezone
            window = lists.outage_window(
                await store.active_outages(conn, flt.district, self._now()), tz
            )
        rows = [
            lists.customer_contact(c, phones[c["id"]], window)
            for c in customers
            if c["id"] in phones
        ]
        return rows, len(customers)

    async def _plan(
        self, conn: AsyncConnection, campaign_id: int | None, rows: list[ContactRow]
    ) -> dict[str, Any]:
        existing = await store.numbers_in(conn, campaign_id) if campaign_id else set()
        new: list[ContactRow] = []
        seen: set[str] = set()
        duplicates = 0
        for r in rows:
            if r.number in existing or r.number in seen:
                duplicates += 1
                continue
            seen.add(r.number)
            new.append(r)
        blocked = await store.blocked(conn, [r.number for r in new])
        return {"new": new, "duplicates": duplicates, "blocked": blocked}

    async def preview(self, campaign_id: int | None, flt: CustomerFilter) -> dict[str, Any]:
        """How many contacts the filter would add (to this campaign, or to a new one)."""
        async with self._services.engine.connect() as conn:
            if campaign_id is not None:
                await self._campaign(conn, campaign_id)
            rows, matched = await self._filter_rows(conn, flt)
            plan = await self._plan(conn, campaign_id, rows)
        new, blocked = plan["new"], plan["blocked"]
        return {
            "customers": matched,
            "without_phone": matched - len(rows),
            "duplicates": plan["duplicates"],
            "do_not_call": sum(1 for r in new if r.number in blocked),
            "to_add": len(new),
            "to_call": sum(1 for r in new if r.number not in blocked),
        }

    async def add_from_filter(
        self, actor: Actor, campaign_id: int, flt: CustomerFilter
    ) -> dict[str, Any]:
        async with self._services.engine.begin() as conn:
            row = await self._editable(conn, campaign_id)
            rows, matched = await self._filter_rows(conn, flt)
            added = await self._add(conn, actor, row, rows, {"filter": flt.model_dump(mode="json")})
        added.update(customers=matched, without_phone=matched - len(rows))
        return added

    async def add_from_csv(self, actor: Actor, campaign_id: int, data: bytes) -> dict[str, Any]:
        try:
            parsed = await asyncio.to_thread(lists.read_csv, data)
        except ImportFormatError as exc:
            raise InvalidCampaign(f"contact file: {exc}") from None
        async with self._services.engine.begin() as conn:
            row = await self._editable(conn, campaign_id)
            owners = await store.customers_of_numbers(conn, [r.number for r in parsed.rows])
            for r in parsed.rows:
                r.customer_id = owners.get(r.number)
            source = {"csv": {"rows": parsed.lines, "columns": parsed.columns}}
            added = await self._add(conn, actor, row, parsed.rows, source)
        added.update(
            rows=parsed.lines,
            failed=len(parsed.errors),
            duplicates=added["duplicates"] + parsed.duplicates,
            columns=parsed.columns,
            errors=[e.__dict__ for e in parsed.errors[:MAX_ERRORS_SHOWN]],
        )
        return added

    async def _editable(self, conn: AsyncConnection, campaign_id: int) -> dict[str, Any]:
        row = await self._campaign(conn, campaign_id)
        if row["state"] not in EDITABLE:
            raise IllegalCampaignTransition(
                f"campaign {campaign_id} is {row['state']}: add contacts while draft or paused"
            )
        return row

    async def _add(
        self,
        conn: AsyncConnection,
        actor: Actor,
        campaign: dict[str, Any],
        rows: list[ContactRow],
        source: dict[str, Any],
    ) -> dict[str, Any]:
        plan = await self._plan(conn, campaign["id"], rows)
        new: list[ContactRow] = plan["new"]
        blocked: set[str] = plan["blocked"]
        now = self._now()
        values = [
            {
                "campaign_id": campaign["id"],
                "customer_id": r.customer_id,
                "number": r.number,
                "name": r.name[:100],
                "data": r.data,
                "state": (
                    ContactState.OPTED_OUT if r.number in blocked else ContactState.PENDING
                ).value,
                "attempts": 0,
                "keys": "",
                "answers": {},
                "confirmed": False,
                "opted_out": r.number in blocked,
                "updated_at": now,
            }
            for r in new
        ]
        await store.insert_contacts(conn, values)
        sources = list((campaign["source"] or {}).get("lists") or [])
        sources.append({**source, "added": len(new), "at": now.isoformat()})
        await store.set_state(
            conn, campaign["id"], [campaign["state"]], {"source": {"lists": sources[-50:]}}
        )
        result = {
            "added": len(new),
            "do_not_call": sum(1 for r in new if r.number in blocked),
            "duplicates": plan["duplicates"],
        }
        await self._audit(conn, actor, "campaign.contacts_added", campaign["id"], result)
        return result

    # -- contacts and results ------------------------------------------------------------

    def _full_numbers(self, actor: Actor) -> bool:
        return actor.role in self._services.settings.privacy.full_number_roles

    async def contacts(
        self, actor: Actor, campaign_id: int, state: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        async with self._services.engine.begin() as conn:
            await self._campaign(conn, campaign_id)
            rows = await store.contacts(conn, campaign_id, state, limit, offset)
            full = self._full_numbers(actor)
            if full and rows:
                await self._audit(
                    conn, actor, "campaign.numbers_shown", campaign_id, {"contacts": len(rows)}
                )
        return [_contact_view(r, full) for r in rows]

    async def results(self, campaign_id: int) -> dict[str, Any]:
        progress: dict[str, Any] = (await self.get(campaign_id))["progress"]
        return progress

    async def results_csv(self, actor: Actor, campaign_id: int) -> tuple[str, bytes]:
        async with self._services.engine.begin() as conn:
            row = await self._campaign(conn, campaign_id)
            rows = await store.contacts(conn, campaign_id, limit=None)
            full = self._full_numbers(actor)
            await self._audit(
                conn, actor, "campaign.export", campaign_id,
                {"contacts": len(rows), "full_numbers": full},
            )  # fmt: skip
        if not full:
            rows = [{**r, "number": mask_phone(r["number"])} for r in rows]
        keys: list[str] = []
        if row["kind"] == CampaignKind.SURVEY:
            keys = [str(q.get("key")) for q in (row["script"] or {}).get("questions") or []]
        data = await asyncio.to_thread(results.contacts_csv, rows, keys)
        return f"campaign-{campaign_id}.csv", data

    async def report(
        self, first: dt.date, last: dt.date, interval: str, campaign_id: int | None
    ) -> list[dict[str, Any]]:
        from zoneinfo import ZoneInfo

        if last < first:
            raise InvalidCampaign(f"the report ends ({last}) before it starts ({first})")
        if (last - first).days > 366:
            raise InvalidCampaign("a report covers at most 366 days")
        if first < dt.date(2000, 1, 1) or last > dt.date(2199, 12, 31):
            raise InvalidCampaign("a report's days are between 2000-01-01 and 2199-12-31")
        tz = self._services.settings.center.timezone
        zone = ZoneInfo(tz)
        start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        async with self._services.engine.connect() as conn:
            attempts = await store.attempts_between(conn, start, end, campaign_id)
            names = await store.campaign_names(conn, [a[0] for a in attempts])
        return results.report(attempts, names, interval, tz)

    # -- do-not-call ---------------------------------------------------------------------

    async def dnc_list(
        self, actor: Actor, include_lifted: bool, number: str | None, limit: int
    ) -> list[dict[str, Any]]:
        wanted = normalize_phone(number) if number else None
        async with self._services.engine.connect() as conn:
            rows = await store.dnc_entries(
                conn, include_lifted=include_lifted, number=wanted, limit=limit
            )
        full = self._full_numbers(actor)
        return [_dnc_view(r, full) for r in rows]

    async def dnc_add(self, actor: Actor, number: str, note: str | None) -> dict[str, Any]:
        normal = normalize_phone(number)
        if not 3 <= len(normal) <= 20:
            raise InvalidCampaign(f"not a phone number: {number}")
        async with self._services.engine.begin() as conn:
            existing = await store.dnc_entries(conn, include_lifted=False, number=normal, limit=1)
            if existing:
                return _dnc_view(existing[0], True)
            values = {
                "number": normal, "reason": "manual", "note": note, "created_by_id": actor.id,
                "created_at": self._now(),
            }  # fmt: skip
            result = await conn.execute(store.DNC.insert().values(**values))
            pk = result.inserted_primary_key
            assert pk is not None
            entry_id = int(pk[0])
            await self._audit(conn, actor, "dnc.add", entry_id, {"note": note}, "do_not_call")
            row = await store.dnc_entry(conn, entry_id)
        assert row is not None
        return _dnc_view(row, True)

    async def dnc_lift(self, actor: Actor, entry_id: int) -> dict[str, Any]:
        now = self._now()
        async with self._services.engine.begin() as conn:
            row = await store.dnc_entry(conn, entry_id)
            if row is None:
                raise DoNotCallNotFound(entry_id)
            if row["lifted_at"] is not None:
                raise IllegalCampaignTransition(f"do-not-call entry {entry_id} is already lifted")
            await conn.execute(
                store.DNC.update()
                .where(store.DNC.c.id == entry_id)
                .values(lifted_at=now, lifted_by_id=actor.id)
            )
            await self._audit(conn, actor, "dnc.lift", entry_id, {}, "do_not_call")
            row = await store.dnc_entry(conn, entry_id)
        assert row is not None
        return _dnc_view(row, self._full_numbers(actor))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _view(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"], "name": r["name"], "kind": str(r["kind"]), "state": str(r["state"]),
        "dial_mode": str(r["dial_mode"]) if r["dial_mode"] else None, "skill": r["skill"],
        "caller_id": r["caller_id"], "script": r["script"] or {}, "rules": r["rules"] or {},
        "source": r["source"] or {}, "sms_fallback": bool(r["sms_fallback"]),
        "sms_text": r["sms_text"], "created_by_id": r["created_by_id"],
        "created_at": _iso(r["created_at"]), "started_at": _iso(r["started_at"]),
        "ended_at": _iso(r["ended_at"]),
    }  # fmt: skip


def _contact_view(r: dict[str, Any], full: bool) -> dict[str, Any]:
    linkedid = r.get("call_linkedid")
    return {
        "id": r["id"], "number": r["number"] if full else mask_phone(r["number"]),
        "name": r["name"], "customer_id": r["customer_id"], "data": r["data"] or {},
        "state": str(r["state"]), "attempts": r["attempts"],
        "next_attempt_at": _iso(r["next_attempt_at"]),
        "last_outcome": str(r["last_outcome"]) if r["last_outcome"] else None,
        "keys": r["keys"], "answers": r["answers"] or {}, "confirmed": bool(r["confirmed"]),
        "opted_out": bool(r["opted_out"]), "agent_id": r["agent_id"],
        "agent_name": r.get("agent_name"), "ticket_id": r["ticket_id"],
        "ticket_number": r.get("ticket_number"), "call_id": r["last_call_id"],
        "call_linkedid": linkedid, "call_url": f"/api/calls/{linkedid}" if linkedid else None,
        "updated_at": _iso(r["updated_at"]),
    }  # fmt: skip


def _dnc_view(r: dict[str, Any], full: bool) -> dict[str, Any]:
    return {
        "id": r["id"], "number": r["number"] if full else mask_phone(r["number"]),
        "customer_id": r["customer_id"], "reason": r["reason"], "campaign_id": r["campaign_id"],
        "note": r["note"], "created_by_id": r["created_by_id"],
        "created_at": _iso(r["created_at"]), "lifted_at": _iso(r["lifted_at"]),
        "lifted_by_id": r["lifted_by_id"],
    }  # fmt: skip
