"""Data and the plain-SQL floor for bench/campaign.py.

One running message campaign with N contacts (numbers 139xxxxxxxx), and for each
contact and attempt an outcome drawn from a seeded realistic mix, so the engine's run
and the SQL floor see the same calls end the same way.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from campaigns.rules import DialingRules
from db.engine import make_sync_engine
from db.models import metadata
from db.models.campaigns import AttemptOutcome, CampaignKind, CampaignState, ContactState

CAMPAIGNS: sa.Table = metadata.tables["campaigns"]
CONTACTS: sa.Table = metadata.tables["campaign_contacts"]

# What 100 campaign calls come to at a utility (the issue: reminders and notices).
MIX: dict[AttemptOutcome, float] = {
    AttemptOutcome.ANSWERED: 0.55,
    AttemptOutcome.NO_ANSWER: 0.15,
    AttemptOutcome.BUSY: 0.10,
    AttemptOutcome.MACHINE: 0.08,
    AttemptOutcome.FAILED: 0.07,
    AttemptOutcome.HANGUP: 0.05,
}


def number_of(i: int) -> str:
    return f"139{i:08d}"


@dataclass(frozen=True)
class Outcomes:
    """outcomes[i][k]: how contact i's (k+1)-th call ends."""

    table: list[list[AttemptOutcome]]

    @classmethod
    def draw(cls, contacts: int, attempts: int, seed: int) -> Outcomes:
        rng = random.Random(seed)
        kinds, weights = list(MIX), list(MIX.values())
        flat = rng.choices(kinds, weights, k=contacts * attempts)
        return cls([flat[i * attempts : (i + 1) * attempts] for i in range(contacts)])

    def of(self, index: int, attempt: int) -> AttemptOutcome:
        return self.table[index][attempt - 1]

    def expected(self, max_attempts: int) -> dict[str, int]:
        """Contacts per final state, and attempts in all, when every retry happens."""
        done = failed = calls = 0
        for row in self.table:
            for k in range(max_attempts):
                calls += 1
                if row[k] is AttemptOutcome.ANSWERED:
                    done += 1
                    break
            else:
                failed += 1
        return {"done": done, "failed": failed, "attempts": calls}


def load(
    url: str, contacts: int, start: dt.datetime, state: CampaignState = CampaignState.RUNNING
) -> int:
    """A message campaign (running: the engine's; a draft: the floor's, which the engine
    leaves alone) and its contacts, all due at `start`; its id."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            campaign_id = conn.execute(
                sa.insert(CAMPAIGNS)
                .values(
                    name="欠费提醒（压测）",
                    kind=CampaignKind.MESSAGE.value,
                    state=state.value,
                    script={"text": "{name}您好，您的燃气费已欠费{arrears}元，请及时缴纳。"},
                    rules={},
                    source={"bench": True},
                    created_at=start,
                    started_at=start,
                )
                .returning(CAMPAIGNS.c.id)
            ).scalar_one()
            step = 10_000
            for first in range(0, contacts, step):
                conn.execute(
                    sa.insert(CONTACTS),
                    [
                        {
                            "campaign_id": campaign_id,
                            "number": number_of(i),
                            "name": f"客户{i}",
                            "data": {"name": f"客户{i}", "arrears": "123.45"},
                            "state": ContactState.PENDING.value,
                            "attempts": 0,
                            "next_attempt_at": start,
                            "keys": "",
                            "answers": {},
                            "confirmed": False,
                            "opted_out": False,
                            "updated_at": start,
                        }
                        for i in range(first, min(contacts, first + step))
                    ],
                )
        return int(campaign_id)
    finally:
        engine.dispose()


def final_counts(url: str, campaign_id: int) -> dict[str, int]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(CONTACTS.c.state, sa.func.count(), sa.func.sum(CONTACTS.c.attempts))
                .where(CONTACTS.c.campaign_id == campaign_id)
                .group_by(CONTACTS.c.state)
            ).all()
    finally:
        engine.dispose()
    counts = {str(state): int(n) for state, n, _ in rows}
    counts["attempts"] = sum(int(a or 0) for _, _, a in rows)
    return counts


# -- the floor: the same schedule in plain SQL -------------------------------------------


def sql_floor(
    url: str,
    campaign_id: int,
    outcomes: Outcomes,
    rules: DialingRules,
    start: dt.datetime,
    index_of: Mapping[int, int],
) -> tuple[float, int, dict[str, int]]:
    """The same contacts through the same outcomes, one set-based pass per wave of
    attempts: a single UPDATE per wave picks every due pending contact and writes its
    attempt count, last outcome, state and next attempt time (the retry minutes of its
    outcome, moved into the calling window by the same rules; one `now` per wave).
    Loading the outcomes is not timed. Returns (seconds, contacts scheduled, counts)."""
    engine = make_sync_engine(url)
    outcome_table = sa.Table(
        "bench_outcomes",
        sa.MetaData(),
        sa.Column("contact_id", sa.BigInteger, primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("outcome", sa.String(20)),
    )
    try:
        with engine.begin() as conn:
            outcome_table.drop(conn, checkfirst=True)
            outcome_table.create(conn)
            rows = [
                {"contact_id": cid, "attempt": k + 1, "outcome": o.value}
                for cid, i in index_of.items()
                for k, o in enumerate(outcomes.table[i][: rules.max_attempts])
            ]
            for first in range(0, len(rows), 20_000):
                conn.execute(sa.insert(outcome_table), rows[first : first + 20_000])
        now, scheduled, seconds = start, 0, 0.0
        o = outcome_table
        for _wave in range(rules.max_attempts):
            t0 = time.perf_counter()
            with engine.begin() as conn:
                scheduled += _wave_update(conn, campaign_id, o, rules, now)
                nxt = conn.execute(
                    sa.select(sa.func.max(CONTACTS.c.next_attempt_at)).where(
                        CONTACTS.c.campaign_id == campaign_id,
                        CONTACTS.c.state == ContactState.PENDING.value,
                    )
                ).scalar()
            seconds += time.perf_counter() - t0
            if nxt is None:
                break
            now = nxt
        with engine.begin() as conn:
            outcome_table.drop(conn)
    finally:
        engine.dispose()
    return seconds, scheduled, final_counts(url, campaign_id)


def _wave_update(
    conn: sa.Connection, campaign_id: int, o: sa.Table, rules: DialingRules, now: dt.datetime
) -> int:
    c = CONTACTS
    this = sa.select(o.c.outcome).where(o.c.contact_id == c.c.id, o.c.attempt == c.c.attempts + 1)
    outcome = this.scalar_subquery()
    retry_at = {
        kind: rules.after_attempt(kind, 1, now).next_attempt_at
        for kind in MIX
        if kind is not AttemptOutcome.ANSWERED
    }
    last = c.c.attempts + 1 >= rules.max_attempts
    state = sa.case(
        (outcome == AttemptOutcome.ANSWERED.value, ContactState.DONE.value),
        (last, ContactState.FAILED.value),
        else_=ContactState.PENDING.value,
    )
    when = sa.case(
        *[
            (
                sa.and_(outcome == kind.value, sa.not_(last)),
                sa.literal(at, c.c.next_attempt_at.type),
            )
            for kind, at in retry_at.items()
        ],
        else_=sa.null(),
    )
    result = conn.execute(
        sa.update(c)
        .where(
            c.c.campaign_id == campaign_id,
            c.c.state == ContactState.PENDING.value,
            c.c.next_attempt_at <= now,
        )
        .values(
            attempts=c.c.attempts + 1,
            last_outcome=outcome,
            state=state,
            next_attempt_at=when,
            updated_at=now,
        )
    )
    return int(result.rowcount)


def contact_index(url: str, campaign_id: int) -> dict[int, int]:
    """contact id -> its index in the outcome table (from its number)."""
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(CONTACTS.c.id, CONTACTS.c.number).where(
                    CONTACTS.c.campaign_id == campaign_id
                )
            ).all()
    finally:
        engine.dispose()
    return {int(cid): int(number[3:]) for cid, number in rows}
