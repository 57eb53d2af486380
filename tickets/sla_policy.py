"""SLA clocks, pure: deadlines per category × priority and what is due at an instant.

Each ticket runs two clocks: response (until someone starts working on it: state
in_progress, or resolved straight away) and resolution (until resolved; a reopen starts
it again). Both count business hours of the category's calendar (config
`tickets.categories[].calendar`: business_hours or 24x7).

A clock walks through numbered stages, each at an instant, never backwards:
    stage 1  warning   at start + sla_warning_fraction × duration   (level 0)
    stage 2  breach    at the deadline                              (level 1)
    stage 3+ escalation at deadline + step × duration, per `sla_escalation_steps`
             (resolution clock only)                                (level 2, 3, ...)
When the monitor finds several stages due at once (it was down), it reports only the
highest one: a warning after the breach is noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from db.models.tickets import TicketPriority
from kernel.business_calendar import WorkCalendar
from kernel.config.care import SlaHours, TicketCategorySettings

ClockName = Literal["response", "resolution"]
_RANK = {p: i for i, p in enumerate(TicketPriority)}  # low < normal < high < urgent


def sla_hours(category: TicketCategorySettings, priority: TicketPriority | str) -> SlaHours:
    """The category's hours for `priority`; when it lists no such priority, the nearest
    one it lists (ties go to the more urgent, i.e. the stricter deadline)."""
    wanted = TicketPriority(priority)
    if wanted.value in category.sla:
        return category.sla[wanted.value]
    configured = [TicketPriority(p) for p in category.sla]
    best = min(configured, key=lambda p: (abs(_RANK[p] - _RANK[wanted]), -_RANK[p]))
    return category.sla[best.value]


@dataclass(frozen=True)
class ClockPlan:
    """When one clock warns and falls due."""

    warn_at: dt.datetime
    due_at: dt.datetime


def plan_clock(
    calendar: WorkCalendar, start: dt.datetime, hours: float, warning_fraction: float
) -> ClockPlan:
    return ClockPlan(
        warn_at=calendar.add_business_hours(start, hours * warning_fraction),
        due_at=calendar.add_business_hours(start, hours),
    )


def tightened(current: ClockPlan | None, raised: ClockPlan) -> ClockPlan:
    """A running clock after its ticket's priority rose: the new priority's plan counted
    from the raise (`raised`), but never later than what was already planned. A raise
    never postpones a warning or a deadline; a clock already past its deadline stays
    breached (its stage and `met` are history) and escalates at the stricter pace."""
    if current is None:
        return raised
    return ClockPlan(
        warn_at=min(current.warn_at, raised.warn_at),
        due_at=min(current.due_at, raised.due_at),
    )


def escalation_instants(
    calendar: WorkCalendar, due_at: dt.datetime, hours: float, steps: list[float]
) -> list[dt.datetime]:
    return [calendar.add_business_hours(due_at, hours * step) for step in steps]


@dataclass(frozen=True)
class ClockState:
    warn_at: dt.datetime | None
    due_at: dt.datetime | None
    stopped: bool  # responded / resolved: this clock no longer runs
    stage: int  # the highest stage already reported (0: none)
    escalations: tuple[dt.datetime, ...] = ()


@dataclass(frozen=True)
class SlaAlert:
    clock: ClockName
    stage: int
    level: int  # 0 warning, 1 breach, 2.. escalations
    due_at: dt.datetime
    instant: dt.datetime  # when this stage fell due

    @property
    def kind(self) -> Literal["sla.warning", "sla.breach"]:
        return "sla.warning" if self.level == 0 else "sla.breach"


def _instants(state: ClockState) -> list[dt.datetime]:
    if state.warn_at is None or state.due_at is None:
        return []
    return [state.warn_at, state.due_at, *state.escalations]


def evaluate(
    clock: ClockName, state: ClockState, now: dt.datetime
) -> tuple[SlaAlert | None, dt.datetime | None]:
    """(the alert due now, if any; the next instant this clock needs a look, if any)."""
    if state.stopped or state.due_at is None:
        return None, None
    alert: SlaAlert | None = None
    for stage, instant in enumerate(_instants(state), start=1):
        if stage <= state.stage:
            continue
        if instant > now:
            return alert, instant
        alert = SlaAlert(clock, stage, stage - 1, state.due_at, instant)
    return alert, None


def next_instant(*candidates: dt.datetime | None) -> dt.datetime | None:
    present = [c for c in candidates if c is not None]
    return min(present) if present else None


def first_pending(state: ClockState) -> dt.datetime | None:
    """The instant of the first stage not yet reported (past or future), if the clock runs."""
    if state.stopped:
        return None
    instants = _instants(state)
    return instants[state.stage] if state.stage < len(instants) else None


def level_of(stage: int) -> int:
    """Escalation level reached at a stage (stage 1 = warning = level 0)."""
    return max(0, stage - 1)
