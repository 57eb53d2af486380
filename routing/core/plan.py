"""The routing plan: config.yaml's queues, steps and priorities compiled once. Pure.

Steps relax eligibility: a call at step k may go to any agent matching the target of
step 0..k (a later step widens, it never excludes the specialists of an earlier one).
Step k starts `starts_after` seconds after the call entered the queue, exactly at the
sum of the earlier steps' timeouts; a last step with a timeout ends in the queue's
overflow action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kernel.config.targets import Target, parse_target, skills_named
from routing.core.ageing import AgeingRule
from routing.core.model import Match, UnknownQueue


@dataclass(frozen=True, slots=True)
class StepPlan:
    target: Target
    skills: tuple[str, ...]  # the skills the target names: the "level for the step"
    starts_after: float
    ends_after: float | None

    def level(self, skills: Mapping[str, int]) -> int:
        return max((skills.get(s, 0) for s in self.skills), default=0)


@dataclass(frozen=True, slots=True)
class QueuePlan:
    index: int
    name: str
    skill: str
    steps: tuple[StepPlan, ...]
    wrap_up_seconds: float
    sl_seconds: float
    sl_percent: float
    overflow_action: str
    overflow_target: str | None

    @property
    def overflow_after(self) -> float | None:
        return self.steps[-1].ends_after

    def step_at(self, elapsed: float) -> int:
        """The step a call is at `elapsed` seconds after entering (may be len(steps) =
        overflowed). A step begins exactly at its start: relaxation at the timeout."""
        step = 0
        for i, s in enumerate(self.steps):
            if s.ends_after is not None and elapsed >= s.ends_after:
                step = i + 1
        return step

    def first_match(self, skills: Mapping[str, int]) -> tuple[int, int] | None:
        for i, step in enumerate(self.steps):
            if step.target(skills):
                return i, step.level(skills)
        return None


@dataclass(frozen=True)
class QueueSpec:
    """A queue as the plan needs it (built from QueueSettings, or by hand in tests)."""

    name: str
    skill: str
    steps: Sequence[tuple[str, float | None]]  # (target expression, timeout seconds)
    wrap_up_seconds: float = 10
    sl_seconds: float = 20
    sl_percent: float = 80
    overflow_action: str = "callback_offer"
    overflow_target: str | None = None


class RoutingPlan:
    def __init__(
        self,
        queues: Sequence[QueueSpec],
        *,
        tier_priorities: Mapping[str, int] | None = None,
        emergency_queues: Sequence[str] = (),
        emergency_priority: int = 1000,
        max_no_answer_before_pause: int = 2,
        default_handle_seconds: float = 180.0,
        not_ready_reasons: Sequence[str] = ("break", "lunch", "training", "meeting", "no_answer"),
        ageing: AgeingRule | None = None,
    ) -> None:
        if ageing is not None and ageing.max_priority >= emergency_priority:
            raise ValueError("ageing.max_priority must stay below the emergency priority")
        self.queues = tuple(_compile(i, q) for i, q in enumerate(queues))
        self.by_name = {q.name: q for q in self.queues}
        self.tier_priorities = dict(tier_priorities or {})
        self.emergency_queues = frozenset(emergency_queues)
        self.emergency_priority = emergency_priority
        self.max_no_answer = max_no_answer_before_pause
        self.default_handle_seconds = default_handle_seconds
        self.not_ready_reasons = frozenset(not_ready_reasons)
        self.ageing = ageing  # None: priorities do not change while calls wait

    def queue(self, name: str) -> QueuePlan:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def matches(self, skills: Mapping[str, int]) -> tuple[Match, ...]:
        out = []
        for q in self.queues:
            found = q.first_match(skills)
            if found is not None:
                out.append(Match(q.index, found[0], found[1]))
        return tuple(out)

    def priority(self, queue: str, *, tier: str | None = None, given: int | None = None) -> int:
        """Tier priority from config (or what the IVR said, if higher); calls of an
        emergency queue go above everything."""
        base = max(given or 0, self.tier_priorities.get(tier or "", 0))
        if tier is None and given is None and self.tier_priorities:
            base = min(self.tier_priorities.values())
        if queue in self.emergency_queues:
            return max(base, self.emergency_priority)
        return base

    @classmethod
    def from_settings(cls, settings: object) -> RoutingPlan:
        from kernel.config import Settings

        assert isinstance(settings, Settings)
        r = settings.routing
        specs = [
            QueueSpec(
                name=q.name,
                skill=q.skill,
                steps=[(s.target, s.timeout_seconds) for s in q.steps],
                wrap_up_seconds=q.wrap_up_seconds,
                sl_seconds=q.service_level.seconds,
                sl_percent=q.service_level.percent,
                overflow_action=q.overflow.action,
                overflow_target=q.overflow.target_queue,
            )
            for q in settings.queues
        ]
        return cls(
            specs,
            tier_priorities={k: t.priority for k, t in settings.tiers.items()},
            emergency_queues=r.emergency_queues,
            emergency_priority=r.emergency_priority,
            max_no_answer_before_pause=r.max_no_answer_before_pause,
            default_handle_seconds=r.default_handle_seconds,
            not_ready_reasons=list(r.not_ready_reasons),
            ageing=(
                AgeingRule(r.ageing.step, r.ageing.every_seconds, settings.ageing_cap())
                if r.ageing.enabled
                else None
            ),
        )


def _compile(index: int, spec: QueueSpec) -> QueuePlan:
    steps: list[StepPlan] = []
    start = 0.0
    for n, (text, timeout) in enumerate(spec.steps):
        if timeout is None and n < len(spec.steps) - 1:
            raise ValueError(f"queue {spec.name}: only the last step may have no timeout")
        target = parse_target(text)
        end = None if timeout is None else start + float(timeout)
        steps.append(StepPlan(target, tuple(sorted(skills_named(target))), start, end))
        if end is not None:
            start = end
    return QueuePlan(
        index=index,
        name=spec.name,
        skill=spec.skill,
        steps=tuple(steps),
        wrap_up_seconds=float(spec.wrap_up_seconds),
        sl_seconds=float(spec.sl_seconds),
        sl_percent=float(spec.sl_percent),
        overflow_action=spec.overflow_action,
        overflow_target=spec.overflow_target,
    )
