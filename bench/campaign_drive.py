"""The campaign engine driven through a day for bench/campaign.py.

The engine (campaigns/engine.py CampaignEngine) runs its rounds as its duty does
(run_due, then next_due to know when to wake), on a FakeClock, with a PBX that records
each Originate and answers at once. Every placed call ends `CALL_SECONDS` later with the
outcome the seeded mix gave that contact's attempt, reaching the engine as in
production:
- answered, hangup, machine: what the call's FastAGI route writes on the attempt row
  (campaigns/agi_store.py: answered_at, and the outcome), then the call ends answered;
- busy, no answer, failed: the call ends unanswered with Asterisk's hangup cause (17, 19,
  34; campaigns/outcomes.py reads them);
and the ends of a round's calls reach `engine.calls_ended(batch)` in batches of at most
END_BATCH, as its call.ended listener coalesces them.
Only the engine's calls are timed; the FastAGI route's writes are timed apart.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bench.campaign_data import Outcomes
from campaigns.engine import END_BATCH, CampaignEngine
from campaigns.rules import DialingRules
from cti.commands import Originated, OriginatePurpose
from cti.fake_pbx import FakePbx
from db.engine import async_session_factory, make_async_engine
from db.models import metadata
from db.models.campaigns import AttemptOutcome
from hotline.services import Services
from kernel.bus.memory import MemoryBus
from kernel.clock import FakeClock
from kernel.config.settings import Settings

ATTEMPTS: sa.Table = metadata.tables["campaign_attempts"]
CALL_SECONDS = 40.0  # ring + message: how long the fake clock moves while calls are up
# The call's end as Asterisk reports it (Q.850 cause), by what the call came to.
ANSWERED_BY_FLOW = {AttemptOutcome.ANSWERED, AttemptOutcome.HANGUP, AttemptOutcome.MACHINE}
CAUSE = {
    AttemptOutcome.BUSY: "17",
    AttemptOutcome.NO_ANSWER: "19",
    AttemptOutcome.FAILED: "34",
}


@dataclass
class RecordingPbx(FakePbx):
    """Originate returns at once; the calls placed since the last take() are kept."""

    placed: list[tuple[str, dict[str, str], dt.datetime]] = field(default_factory=list)
    clock: FakeClock | None = None
    count: int = 0

    async def originate(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        context: str,
        exten: str = "s",
        priority: int = 1,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        timeout_seconds: int = 30,
        uniqueid: str | None = None,
    ) -> Originated:
        assert uniqueid is not None
        assert self.clock is not None
        self.placed.append((uniqueid, dict(variables or {}), self.clock.now()))
        self.count += 1
        return Originated(uniqueid, uniqueid + ";2")

    def take(self) -> list[tuple[str, dict[str, str], dt.datetime]]:
        placed, self.placed = self.placed, []
        return placed


@dataclass
class Result:
    seconds: float = 0.0  # the engine's own time (run_due, call_ended, next_due)
    flow_seconds: float = 0.0  # the FastAGI route's writes, apart
    scheduled: int = 0  # attempts finished: a contact's next state and time decided
    placed: int = 0
    rounds: int = 0
    outside: int = 0  # calls placed outside the calling window (must be 0)
    simulated: dt.timedelta = dt.timedelta()
    partial: bool = False  # stopped at max_seconds: the campaign was not finished


class Drive:
    def __init__(
        self,
        settings: Settings,
        url: str,
        campaign_id: int,
        outcomes: Outcomes,
        index_of: Mapping[int, int],
        start: dt.datetime,
    ) -> None:
        self._settings = settings
        self._url = url
        self._campaign_id = campaign_id
        self._outcomes = outcomes
        self._index_of = index_of
        self._start = start
        self._calls: dict[int, int] = {}  # contact id -> calls placed to it

    async def run(self, max_seconds: float | None = None) -> Result:
        """Until the campaign is done, or (partial) once the engine spent `max_seconds`."""
        clock = FakeClock(self._start)
        pbx = RecordingPbx(clock=clock)
        engine = make_async_engine(self._url)
        bus = MemoryBus()
        services = Services(
            settings=self._settings,
            bus=bus,
            engine=engine,
            sessions=async_session_factory(engine),
            pbx=pbx,
            clock=clock,
        )
        rules = DialingRules.of(self._settings)
        result = Result()
        campaigns = CampaignEngine(services)
        perf = time.perf_counter
        try:
            while True:
                t0 = perf()
                await campaigns.run_due()
                result.seconds += perf() - t0
                result.rounds += 1
                calls = pbx.take()
                if calls:
                    result.placed += len(calls)
                    result.outside += sum(1 for _, _, at in calls if not rules.may_call(at))
                    clock.advance(CALL_SECONDS)
                    ends = self._outcomes_of(calls)
                    t0 = perf()
                    await self._flow_writes(services, ends, clock.now())
                    result.flow_seconds += perf() - t0
                    t0 = perf()
                    spent = result.seconds
                    # The calls of a round end together: the engine's call.ended
                    # listener coalesces them into batches of at most END_BATCH.
                    ended = self._ends(ends, clock.now())
                    for first in range(0, len(ended), END_BATCH):
                        batch = ended[first : first + END_BATCH]
                        await campaigns.calls_ended(batch)
                        result.scheduled += len(batch)
                        if max_seconds is not None and spent + perf() - t0 >= max_seconds:
                            result.partial = True
                            break
                    result.seconds += perf() - t0
                    if result.partial:
                        break
                    continue
                t0 = perf()
                due = await campaigns.next_due()
                result.seconds += perf() - t0
                if due is None:
                    break
                clock.set(max(due, clock.now() + dt.timedelta(seconds=1)))
        finally:
            await bus.close()
            await engine.dispose()
        result.simulated = clock.now() - self._start
        return result

    def _outcomes_of(
        self, calls: list[tuple[str, dict[str, str], dt.datetime]]
    ) -> list[tuple[str, int, AttemptOutcome]]:
        ends = []
        for linkedid, variables, _at in calls:
            contact = int(variables["HOTLINE_CONTACT_ID"])
            attempt = self._calls.get(contact, 0) + 1
            self._calls[contact] = attempt
            outcome = self._outcomes.of(self._index_of[contact], attempt)
            ends.append((linkedid, int(variables["HOTLINE_ATTEMPT_ID"]), outcome))
        return ends

    @staticmethod
    async def _flow_writes(
        services: Services, ends: list[tuple[str, int, AttemptOutcome]], now: dt.datetime
    ) -> None:
        """What campaigns/agi_store.py writes while the customer is on the line."""
        by_outcome: dict[AttemptOutcome, list[int]] = {}
        for _, attempt_id, outcome in ends:
            if outcome in ANSWERED_BY_FLOW:
                by_outcome.setdefault(outcome, []).append(attempt_id)
        if not by_outcome:
            return
        async with services.sessions() as session:
            conn = await session.connection()
            for outcome, ids in by_outcome.items():
                for first in range(0, len(ids), 500):
                    chunk = ids[first : first + 500]
                    await conn.execute(
                        sa.update(ATTEMPTS)
                        .where(ATTEMPTS.c.id.in_(chunk))
                        .values(outcome=outcome.value, answered_at=now)
                    )
            await session.commit()

    @staticmethod
    def _ends(
        ends: list[tuple[str, int, AttemptOutcome]], now: dt.datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for linkedid, _, outcome in ends:
            answered = outcome in ANSWERED_BY_FLOW
            call = {
                "answered_at": now.isoformat() if answered else None,
                "hangup_cause": "16" if answered else CAUSE[outcome],
            }
            out.append((linkedid, call))
        return out
