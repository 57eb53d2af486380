"""The metric definitions, in one place. Pure: no SQL, no I/O.

Reports (reports/sql.py aggregates in the database) and the live supervisor view (which
folds calls as they end) both produce `Aggregates` and turn them into `Metrics` with
`derive()`, so the two agree exactly for the same interval. `call_aggregates()` is the
reference fold over call rows: the SQL must give the same sums (tested on both
databases), and the live view uses it per call.

Population and attribution
- A call counts in the interval (center time zone) in which it *started*
  (calls.started_at), for its queue (calls.queue), skill (calls.skill) and the first
  agent who answered it (calls.agent_id). By ticket category, a call counts for each
  category of the tickets linked to it (ticket_calls).
- Surveys count in the interval of their `at`, tickets in that of their `created_at`,
  agent state time in the interval where it was spent (stretches are split at interval
  boundaries).

Every definition is stated on the field or function that carries it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

ANSWERED = "answered"
ABANDONED_QUEUE = "abandoned_queue"
CALLBACK_REQUESTED = "callback_requested"
OVERFLOWED = "overflowed"
# agent_state_history states: busy = handling a call; logged in = any state but logged_out.
BUSY_STATES = frozenset({"on_call", "wrap_up"})
LOGGED_OUT = "logged_out"
DEFAULT_SERVICE_SECONDS = 20  # kernel.config.center.ServiceLevel's default


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Service-level seconds per queue (config queues[].service_level.seconds, default
    for unknown queues) and the short-abandon threshold (reports.short_abandon_seconds)."""

    short_abandon_seconds: float = 5
    service_seconds: tuple[tuple[str, float], ...] = ()
    default_service_seconds: float = DEFAULT_SERVICE_SECONDS

    def service_seconds_for(self, queue: str | None) -> float:
        return dict(self.service_seconds).get(queue or "", self.default_service_seconds)


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the metrics read of one call (a `calls` row)."""

    started_at: dt.datetime
    queue: str | None
    queued: bool  # calls.queued_at IS NOT NULL
    answered: bool  # calls.answered_at IS NOT NULL
    disposition: str
    wait_seconds: float
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrap_seconds: float = 0.0
    transfers: int = 0
    first_contact_resolution: bool | None = None


@dataclass(slots=True)
class Aggregates:
    """Additive counters and sums; `a + b` merges two groups (e.g. 15-minute buckets
    into an hour, queues into the center)."""

    # Calls that entered a queue (queued_at set): the center was asked to answer them.
    offered: int = 0
    # Offered calls an agent answered (answered_at set).
    answered: int = 0
    # Answered calls whose wait (queue entry to answer) was <= the queue's SL seconds.
    answered_in_sl: int = 0
    # Offered calls the caller hung up in the queue (disposition abandoned_queue) after
    # waiting at least the short-abandon threshold.
    abandoned: int = 0
    # The same, waiting less than the threshold: reported apart, in no rate.
    short_abandoned: int = 0
    # Calls that asked to be called back (disposition callback_requested).
    callbacks: int = 0
    # Calls the dialplan moved elsewhere when their queue could not take them.
    overflowed: int = 0
    # Sums over answered calls.
    wait_answered_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrap_seconds: float = 0.0
    # Sum of calls.transfers over all calls of the group.
    transfers: int = 0
    # Answered calls whose first-contact resolution is known, and of those resolved.
    fcr_known: int = 0
    fcr_resolved: int = 0
    # Surveys with a rating (1..5), their sum, and those rated 4 or 5.
    surveys_rated: int = 0
    rating_sum: int = 0
    surveys_satisfied: int = 0
    # Tickets created; SLA outcomes as decided on the ticket (sla_*_met true/false).
    tickets: int = 0
    sla_response_met: int = 0
    sla_response_breached: int = 0
    sla_resolution_met: int = 0
    sla_resolution_breached: int = 0
    # Agent time: busy = on_call + wrap_up; logged in = every state but logged_out.
    busy_seconds: float = 0.0
    logged_in_seconds: float = 0.0

    def __add__(self, other: Aggregates) -> Aggregates:
        return Aggregates(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in dataclasses.fields(self)
            }
        )

    def as_dict(self) -> dict[str, int | float]:
        return dataclasses.asdict(self)


def call_aggregates(call: CallFacts, thresholds: Thresholds) -> Aggregates:
    """One call's contribution (the reference the SQL aggregates must equal)."""
    a = Aggregates(transfers=call.transfers)
    if call.disposition == CALLBACK_REQUESTED:
        a.callbacks = 1
    if call.disposition == OVERFLOWED:
        a.overflowed = 1
    if not call.queued:
        return a
    a.offered = 1
    if call.answered:
        a.answered = 1
        if call.wait_seconds <= thresholds.service_seconds_for(call.queue):
            a.answered_in_sl = 1
        a.wait_answered_seconds = call.wait_seconds
        a.talk_seconds = call.talk_seconds
        a.hold_seconds = call.hold_seconds
        a.wrap_seconds = call.wrap_seconds
        if call.first_contact_resolution is not None:
            a.fcr_known = 1
            a.fcr_resolved = int(call.first_contact_resolution)
    elif call.disposition == ABANDONED_QUEUE:
        if call.wait_seconds < thresholds.short_abandon_seconds:
            a.short_abandoned = 1
        else:
            a.abandoned = 1
    return a


def survey_aggregates(rating: int | None) -> Aggregates:
    if rating is None:
        return Aggregates()
    return Aggregates(surveys_rated=1, rating_sum=rating, surveys_satisfied=int(rating >= 4))


def ticket_aggregates(response_met: bool | None, resolution_met: bool | None) -> Aggregates:
    return Aggregates(
        tickets=1,
        sla_response_met=int(response_met is True),
        sla_response_breached=int(response_met is False),
        sla_resolution_met=int(resolution_met is True),
        sla_resolution_breached=int(resolution_met is False),
    )


def state_aggregates(state: str, seconds: float) -> Aggregates:
    """Time an agent spent in `state` (already clipped to the interval)."""
    if state == LOGGED_OUT:
        return Aggregates()
    busy = seconds if state in BUSY_STATES else 0.0
    return Aggregates(busy_seconds=busy, logged_in_seconds=seconds)


def fold(items: Iterable[Aggregates]) -> Aggregates:
    total = Aggregates()
    for item in items:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class Metrics:
    """What reports and the live view show. Ratios are 0..1; None where the
    denominator is zero (no calls is not 0 % nor 100 %)."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    callbacks: int
    overflowed: int
    # answered_in_sl ÷ answered
    service_level: float | None
    # answered_in_sl ÷ (answered + abandoned): abandons count against the center
    service_level_offered: float | None
    # abandoned ÷ (offered − short_abandoned)
    abandon_rate: float | None
    # average speed of answer: wait_answered_seconds ÷ answered
    asa_seconds: float | None
    # average handle time: (talk + hold + wrap of answered calls) ÷ answered
    aht_seconds: float | None
    # busy_seconds ÷ logged_in_seconds (agent dimension and center total)
    occupancy: float | None
    transfers: int
    # fcr_resolved ÷ fcr_known
    first_contact_resolution: float | None
    surveys: int
    # rating_sum ÷ surveys_rated, and surveys_satisfied ÷ surveys_rated
    survey_average: float | None
    survey_satisfied: float | None
    tickets: int
    sla_response_met: int
    sla_response_breached: int
    sla_resolution_met: int
    sla_resolution_breached: int
    # sla_resolution_met ÷ (met + breached)
    sla_resolution_rate: float | None

    def as_dict(self) -> dict[str, int | float | None]:
        return dataclasses.asdict(self)


RATIO_DIGITS = 4
SECONDS_DIGITS = 1


def _ratio(num: float, den: float, digits: int = RATIO_DIGITS) -> float | None:
    return round(num / den, digits) if den else None


def _ms(seconds: float) -> float:
    """Sums are rounded to the millisecond first: SQL and Python add floats in different
    orders, and the last bits must not tip a rounded average the other way."""
    return round(seconds, 3)


def derive(a: Aggregates) -> Metrics:
    handle = _ms(a.talk_seconds + a.hold_seconds + a.wrap_seconds)
    return Metrics(
        offered=a.offered,
        answered=a.answered,
        abandoned=a.abandoned,
        short_abandoned=a.short_abandoned,
        callbacks=a.callbacks,
        overflowed=a.overflowed,
        service_level=_ratio(a.answered_in_sl, a.answered),
        service_level_offered=_ratio(a.answered_in_sl, a.answered + a.abandoned),
        abandon_rate=_ratio(a.abandoned, a.offered - a.short_abandoned),
        asa_seconds=_ratio(_ms(a.wait_answered_seconds), a.answered, SECONDS_DIGITS),
        aht_seconds=_ratio(handle, a.answered, SECONDS_DIGITS),
        occupancy=_ratio(_ms(a.busy_seconds), _ms(a.logged_in_seconds)),
        transfers=a.transfers,
        first_contact_resolution=_ratio(a.fcr_resolved, a.fcr_known),
        surveys=a.surveys_rated,
        survey_average=_ratio(a.rating_sum, a.surveys_rated, 2),
        survey_satisfied=_ratio(a.surveys_satisfied, a.surveys_rated),
        tickets=a.tickets,
        sla_response_met=a.sla_response_met,
        sla_response_breached=a.sla_response_breached,
        sla_resolution_met=a.sla_resolution_met,
        sla_resolution_breached=a.sla_resolution_breached,
        sla_resolution_rate=_ratio(
            a.sla_resolution_met, a.sla_resolution_met + a.sla_resolution_breached
        ),
    )


METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Metrics))
