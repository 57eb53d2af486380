"""The message engine's batches (campaigns/engine.py, campaigns/attempts.py), on SQLite and
PostgreSQL with a fake PBX and a FakeClock: a round claims its contacts in one transaction
and records its calls in one more; of two dialers claiming one contact one wins; a failed
Originate finishes only its attempt FAILED; the calling window closing mid-batch leaves
nothing DIALING and no attempt counted; call ends that arrive together are finished in
one transaction with the right outcomes (also through the bus); finish_stale finishes
its list in one transaction; an engine stopped mid-batch loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from campaigns import store as api_store
from campaigns.attempts import NOT_DIALLED, Claim, start_attempts
from campaigns.engine import CampaignEngine
from cti.commands import Originated, PbxError
from cti.fake_pbx import FakePbx
from db.models import metadata
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignContact,
    CampaignKind,
    CampaignState,
    ContactState,
)
from hotline.services import Services
from kernel import topics
from kernel.clock import FakeClock
from tests.harness.http_app import api_services
from tests.integration.campaigns.campaigns_support import ATTEMPTS, CONTACTS, SH, TEXT, T
from tests.support import eventually

CLOSING = dt.datetime(2026, 12, 8, 19, 59, 59, tzinfo=SH)  # one second before 20:00
CALLS = metadata.tables["calls"]
ENV = {"HOTLINE_CAMPAIGNS__CALLS_PER_SECOND": "100", "HOTLINE_CAMPAIGNS__TRUNK_CHANNELS": "50"}


@dataclass
class BatchPbx(FakePbx):
    """Originate fails for `failing` numbers; `after` runs after each Originate placed."""

    failing: set[str] = field(default_factory=set)
    after: Any = None
    placed: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def originate(self, endpoint: str, **kw: Any) -> Originated:
        number = endpoint.removeprefix("Local/").split("@")[0]
        if number in self.failing:
            raise PbxError("Originate failed: no route")
        uid = str(kw["uniqueid"])
        self.placed.append((uid, dict(kw.get("variables") or {})))
        if self.after is not None:
            await self.after(len(self.placed))
        return Originated(uid, uid + ";2")


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(T)


@pytest.fixture
async def services(db_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    async with api_services(db_url, clock=clock, env=ENV) as s:
        s.pbx = BatchPbx()
        yield s


def pbx_of(services: Services) -> BatchPbx:
    assert isinstance(services.pbx, BatchPbx)
    return services.pbx


async def campaign_with(services: Services, count: int, *, sms_fallback: bool = False) -> int:
    async with services.sessions() as s:
        campaign = Campaign(
            name="欠费提醒", kind=CampaignKind.MESSAGE, state=CampaignState.RUNNING,
            script={"text": TEXT}, rules={"max_attempts": 2},
            sms_fallback=sms_fallback, sms_text=TEXT if sms_fallback else None,
        )  # fmt: skip
        s.add(campaign)
        await s.flush()
        assert campaign.id is not None
        s.add_all(
            CampaignContact(
                campaign_id=campaign.id, number=number(i), name="王芳", data={"arrears": "128.5"}
            )
            for i in range(count)
        )
        await s.commit()
        return campaign.id


def number(i: int) -> str:
    return f"1390571{i:04d}"


async def contacts(services: Services) -> dict[str, Any]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(sa.select(CONTACTS).order_by(CONTACTS.c.id))
        return {r.number: r for r in rows}


async def attempts(services: Services) -> list[Any]:
    async with services.engine.connect() as conn:
        return list(await conn.execute(sa.select(ATTEMPTS).order_by(ATTEMPTS.c.id)))


@contextlib.contextmanager
def commits(services: Services) -> Iterator[list[int]]:
    """Counts the transactions committed on the services' database engine meanwhile."""
    seen: list[int] = []

    def on_commit(_conn: Any) -> None:
        seen.append(1)

    target = services.engine.sync_engine
    sa.event.listen(target, "commit", on_commit)
    try:
        yield seen
    finally:
        sa.event.remove(target, "commit", on_commit)


async def test_a_round_claims_in_one_transaction_and_records_in_one(services: Services) -> None:
    campaign_id = await campaign_with(services, 12)
    engine = CampaignEngine(services)
    with commits(services) as committed:
        assert await engine.run_due() == 12
    assert len(committed) == 2  # the claims, then the calls' records
    rows = await contacts(services)
    assert {r.state for r in rows.values()} == {ContactState.DIALING.value}
    assert {r.attempts for r in rows.values()} == {1}
    tried = await attempts(services)
    assert len(tried) == 12
    assert all(a.ended_at is None and a.call_id is not None for a in tried)
    async with services.engine.connect() as conn:
        calls = list(
            await conn.execute(sa.select(CALLS.c.id, CALLS.c.direction, CALLS.c.campaign_id))
        )
    assert {(str(d), c) for _, d, c in calls} == {("out", campaign_id)}
    assert {a.call_id for a in tried} == {i for i, _, _ in calls}
    # Every Originate carries its own attempt's ids.
    by_linkedid = {a.linkedid: a for a in tried}
    for uid, variables in pbx_of(services).placed:
        assert variables["HOTLINE_ATTEMPT_ID"] == str(by_linkedid[uid].id)
        assert variables["HOTLINE_CONTACT_ID"] == str(by_linkedid[uid].contact_id)


async def test_of_two_dialers_claiming_one_contact_one_wins(services: Services) -> None:
    campaign_id = await campaign_with(services, 6)
    ids = {r.number: r.id for r in (await contacts(services)).values()}
    async with services.engine.begin() as conn:  # one stopped, one opted out meanwhile
        await conn.execute(
            CONTACTS.update().where(CONTACTS.c.id == ids[number(4)]).values(state="cancelled")
        )
        await conn.execute(
            CONTACTS.update().where(CONTACTS.c.id == ids[number(5)]).values(state="opted_out")
        )

    async def claim(tag: str, which: list[int]) -> set[int]:
        async with services.sessions() as s:
            won = await start_attempts(
                s, [Claim(ids[number(i)], 0, f"hlcp-{tag}{i}") for i in which], now=T
            )
            await s.commit()
            return {c.contact_id for c in won}

    first, second = await asyncio.gather(claim("a", [0, 1, 2, 4, 5]), claim("b", [2, 3, 4]))
    assert first & second == set()  # contact 2: one winner
    assert first | second == {ids[number(i)] for i in range(4)}
    tried = await attempts(services)
    assert sorted(a.contact_id for a in tried) == sorted(ids[number(i)] for i in range(4))
    assert {a.campaign_id for a in tried} == {campaign_id}
    rows = await contacts(services)
    assert rows[number(4)].state == "cancelled"
    assert rows[number(5)].state == "opted_out"
    assert rows[number(2)].attempts == 1
    # A stale claim (the contact moved on since it was read) wins nothing.
    async with services.sessions() as s:
        assert await start_attempts(s, [Claim(ids[number(0)], 0, "hlcp-late")], now=T) == []


async def test_a_failed_originate_fails_only_its_attempt(services: Services) -> None:
    await campaign_with(services, 5)
    pbx_of(services).failing = {number(2)}
    engine = CampaignEngine(services)
    assert await engine.run_due() == 4
    rows = await contacts(services)
    assert rows[number(2)].state == ContactState.PENDING.value  # retried later
    assert rows[number(2)].last_outcome == AttemptOutcome.FAILED.value
    assert rows[number(2)].next_attempt_at is not None
    for i in (0, 1, 3, 4):
        assert rows[number(i)].state == ContactState.DIALING.value
    tried = {a.contact_id: a for a in await attempts(services)}
    failed = tried[rows[number(2)].id]
    assert failed.outcome == AttemptOutcome.FAILED.value
    assert failed.hangup_cause == "originate"
    assert failed.ended_at is not None
    assert failed.call_id is None
    assert all(a.call_id is not None for cid, a in tried.items() if cid != rows[number(2)].id)
    assert [u for u, _ in pbx_of(services).placed] == [
        a.linkedid for cid, a in tried.items() if cid != rows[number(2)].id
    ]


async def test_the_window_closing_mid_batch_leaves_nothing_dialing(
    services: Services, clock: FakeClock
) -> None:
    campaign_id = await campaign_with(services, 5)
    clock.set(CLOSING)

    async def past_eight(placed: int) -> None:
        if placed == 2:
            clock.advance(2)  # 20:00:01 before the third dial

    pbx_of(services).after = past_eight
    engine = CampaignEngine(services)
    assert await engine.run_due() == 2
    rows = await contacts(services)
    states = [r.state for r in rows.values()]
    assert states.count(ContactState.DIALING.value) == 2
    assert states.count(ContactState.PENDING.value) == 3
    back = [n for n, r in rows.items() if r.state == ContactState.PENDING.value]
    for n in back:
        assert rows[n].attempts == 0  # not an attempt
        assert rows[n].last_outcome is None
    tried = await attempts(services)
    given_back = [a for a in tried if a.hangup_cause == NOT_DIALLED]
    assert len(given_back) == 3
    assert all(a.ended_at is not None and a.outcome is None for a in given_back)
    async with services.engine.connect() as conn:
        assert await api_store.attempts_by_outcome(conn, campaign_id) == {"in_progress": 2}
        day = await api_store.attempts_between(
            conn, T - dt.timedelta(hours=1), T.replace(hour=23), None
        )
    assert len(day) == 2
    # Nothing more tonight; the next morning the three are dialled as first attempts.
    assert await engine.run_due() == 0
    assert len(pbx_of(services).placed) == 2
    clock.set(dt.datetime(2026, 12, 9, 9, 0, tzinfo=SH))
    pbx_of(services).after = None
    assert await engine.run_due() == 3
    morning = await contacts(services)
    assert {morning[n].state for n in back} == {ContactState.DIALING.value}
    ids = {morning[n].id for n in back}
    again = [a for a in await attempts(services) if a.hangup_cause != NOT_DIALLED]
    assert sorted(a.attempt for a in again if a.contact_id in ids) == [1, 1, 1]


async def write_flow(services: Services, attempt_id: int, outcome: AttemptOutcome) -> None:
    """What the call flow (campaigns/agi_store.py) writes while the customer is on the line."""
    async with services.engine.begin() as conn:
        await conn.execute(
            ATTEMPTS.update()
            .where(ATTEMPTS.c.id == attempt_id)
            .values(outcome=outcome.value, answered_at=T)
        )


CASES: Mapping[int, tuple[AttemptOutcome | None, dict[str, Any], str, str]] = {
    # contact: (call flow's outcome, the call's end, the attempt's outcome, contact state)
    0: (AttemptOutcome.ANSWERED, {"answered_at": "x", "hangup_cause": "16"}, "answered", "done"),
    1: (None, {"answered_at": None, "hangup_cause": "17"}, "busy", "pending"),
    2: (None, {"answered_at": None, "hangup_cause": "19"}, "no_answer", "pending"),
    3: (None, {"answered_at": None, "hangup_cause": "34"}, "failed", "pending"),
    4: (AttemptOutcome.MACHINE, {"answered_at": "x", "hangup_cause": "16"}, "machine", "pending"),
    5: (AttemptOutcome.HANGUP, {"answered_at": "x", "hangup_cause": "16"}, "hangup", "pending"),
}


async def dialled(services: Services, engine: CampaignEngine) -> dict[int, Any]:
    """A round placed a call to each contact: {contact index: its attempt row}."""
    assert await engine.run_due() == len(CASES)
    rows = await contacts(services)
    index = {rows[number(i)].id: i for i in CASES}
    return {index[a.contact_id]: a for a in await attempts(services)}


async def every_case_dialled(services: Services) -> tuple[CampaignEngine, dict[int, Any]]:
    """A campaign of every case, one round dialled: the engine and the attempts."""
    await campaign_with(services, len(CASES))
    engine = CampaignEngine(services)
    return engine, await dialled(services, engine)


async def test_call_ends_together_are_finished_in_one_transaction(
    services: Services, clock: FakeClock
) -> None:
    engine, tried = await every_case_dialled(services)
    for i, (flow, _, _, _) in CASES.items():
        if flow is not None:
            await write_flow(services, tried[i].id, flow)
    clock.advance(40)
    ended = [(tried[i].linkedid, end) for i, (_, end, _, _) in CASES.items()]
    ended += [(tried[1].linkedid, CASES[1][1]), ("hlcp-unknown", {"hangup_cause": "16"})]
    with commits(services) as committed:
        assert await engine.calls_ended(ended) == len(CASES)
    assert len(committed) == 1
    rows = await contacts(services)
    after = {a.contact_id: a for a in await attempts(services)}
    for i, (_, _, outcome, state) in CASES.items():
        contact = rows[number(i)]
        assert after[contact.id].outcome == outcome, i
        assert contact.last_outcome == outcome, i
        assert contact.state == state, i
        assert after[contact.id].ended_at is not None
    # Finishing again changes nothing.
    assert await engine.calls_ended(ended) == 0
    assert await contacts(services) == rows


async def test_call_ended_events_on_the_bus_are_coalesced(
    services: Services, clock: FakeClock
) -> None:
    campaign_id = await campaign_with(services, len(CASES), sms_fallback=True)
    async with services.engine.begin() as conn:  # the last attempt: the unreached get a text
        await conn.execute(CONTACTS.update().values(attempts=1))
    engine = CampaignEngine(services, max_sleep=0.05)
    tried = await dialled(services, engine)
    for i, (flow, _, _, _) in CASES.items():
        if flow is not None:
            await write_flow(services, tried[i].id, flow)
    sms = await services.bus.subscribe(topics.SMS)
    clock.set(dt.datetime(2026, 12, 8, 21, 0, tzinfo=SH))  # the window closed: no new dials
    await engine.start()
    try:
        for i, (_, end, _, _) in CASES.items():
            await services.bus.publish(
                topics.CALL, {"type": "call.ended", "call_id": tried[i].linkedid, "call": end}
            )

        async def all_ended() -> bool:
            return all(a.ended_at is not None for a in await attempts(services))

        await eventually(all_ended, 20, "every attempt finished from the bus")
        rows = await contacts(services)
        assert rows[number(0)].state == "done"
        for i in (1, 2, 3, 4, 5):  # two attempts: the limit
            assert rows[number(i)].state == "failed", i
            assert rows[number(i)].sms_id is not None
        texts: set[Any] = set()
        while len(texts) < 5:
            msg = await asyncio.wait_for(sms.get(), 10)
            texts.add(msg.data.get("sms_id"))
        assert texts == {rows[number(i)].sms_id for i in (1, 2, 3, 4, 5)}
        async with services.sessions() as s:
            campaign = await s.get(Campaign, campaign_id)
            assert campaign is not None
            assert campaign.state == CampaignState.COMPLETED
    finally:
        await engine.stop()
        await sms.close()


async def test_finish_stale_finishes_its_list_in_one_transaction(
    services: Services, clock: FakeClock
) -> None:
    engine, tried = await every_case_dialled(services)
    ended_at = T + dt.timedelta(seconds=30)
    async with services.engine.begin() as conn:  # the call log saw the calls end; no bus
        for i, (flow, end, _, _) in CASES.items():
            answered = end["answered_at"] is not None
            await conn.execute(
                CALLS.update()
                .where(CALLS.c.id == tried[i].call_id)
                .values(
                    ended_at=ended_at,
                    answered_at=ended_at if answered else None,
                    hangup_cause=end["hangup_cause"],
                )
            )
            if flow is not None:
                await conn.execute(
                    ATTEMPTS.update().where(ATTEMPTS.c.id == tried[i].id).values(outcome=flow.value)
                )
    clock.set(ended_at + dt.timedelta(seconds=10))
    with commits(services) as committed:
        assert await engine.finish_stale(clock.now()) == len(CASES)
    assert len(committed) == 1
    rows = await contacts(services)
    for i, (_, _, outcome, state) in CASES.items():
        assert (rows[number(i)].last_outcome, rows[number(i)].state) == (outcome, state), i


async def test_an_engine_stopped_mid_batch_loses_nothing(
    services: Services, clock: FakeClock
) -> None:
    campaign_id = await campaign_with(services, 5)
    hold = asyncio.Event()
    third = asyncio.Event()

    async def stuck(placed: int) -> None:
        if placed == 3:
            third.set()
            await hold.wait()  # the third Originate never returns

    pbx_of(services).after = stuck
    engine = CampaignEngine(services)
    task = asyncio.create_task(engine.run_due())
    await asyncio.wait_for(third.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    rows = await contacts(services)
    tried = {a.linkedid: a for a in await attempts(services)}
    placed = [u for u, _ in pbx_of(services).placed]
    for uid in placed[:2]:  # dialled: recorded
        assert tried[uid].call_id is not None
        assert tried[uid].ended_at is None
    cut = tried[placed[2]]  # cut short: open, its call may be up
    assert cut.ended_at is None
    assert cut.call_id is None
    states = sorted(r.state for r in rows.values())
    assert states == ["dialing"] * 3 + ["pending"] * 2  # the two never dialled given back
    assert sorted(r.attempts for r in rows.values()) == [0, 0, 1, 1, 1]
    # A restarted leader: the call log saw the cut call end; finish_stale finishes it.
    async with services.engine.begin() as conn:
        await conn.execute(
            CALLS.insert().values(
                pbx_node="pbx1", linkedid=cut.linkedid, started_at=T, ended_at=T,
                hangup_cause="19", ivr_path=[], agents=[], updated_at=T,
            )
        )  # fmt: skip
    clock.advance(10)
    restarted = CampaignEngine(services)
    assert await restarted.finish_stale(clock.now()) == 1
    async with services.engine.connect() as conn:
        call = (
            await conn.execute(
                sa.select(CALLS.c.direction, CALLS.c.campaign_id).where(
                    CALLS.c.linkedid == cut.linkedid
                )
            )
        ).one()
    assert (str(call.direction), call.campaign_id) == ("out", campaign_id)
    finished = {a.linkedid: a for a in await attempts(services)}[cut.linkedid]
    assert finished.outcome == AttemptOutcome.NO_ANSWER.value
    assert finished.call_id is not None
