"""An agent's evaluation from several angles (seed 003: 客户评价 the customers' evaluation,
质检 the inspectors' scores, 主管评价 the supervisor's view), weighted by config
(qa.evaluation).

Pure: each angle is brought to 0-100 (a 1-5 rating r counts 100 * (r - 1) / 4, so 1 is
0 and 5 is 100; a QA total already is a percentage), then the angles that have data are
averaged with their weights re-normalised. No data at all: no overall score (None), not 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kernel.config.backoffice import QaEvaluationWeights


@dataclass(frozen=True, slots=True)
class Angle:
    name: str  # survey | qa | supervisor
    weight: float
    count: int
    average: float | None  # in the angle's own unit (rating 1-5 or QA 0-100)
    score: float | None  # 0-100


@dataclass(frozen=True, slots=True)
class Evaluation:
    angles: list[Angle]
    overall: float | None  # 0-100, None when no angle has data


def rating_percent(rating: float) -> float:
    """A 1-5 rating as 0-100."""
    return 100 * (rating - 1) / 4


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def evaluate(
    weights: QaEvaluationWeights,
    *,
    survey_ratings: Sequence[int],
    qa_totals: Sequence[float],
    supervisor_scores: Sequence[int],
) -> Evaluation:
    survey, qa, boss = _mean(survey_ratings), _mean(qa_totals), _mean(supervisor_scores)
    angles = [
        Angle("survey", weights.survey, len(survey_ratings), _round(survey),
              _round(rating_percent(survey)) if survey is not None else None),
        Angle("qa", weights.qa, len(qa_totals), _round(qa), _round(qa)),
        Angle("supervisor", weights.supervisor, len(supervisor_scores), _round(boss),
              _round(rating_percent(boss)) if boss is not None else None),
    ]  # fmt: skip
    counted = [a for a in angles if a.score is not None and a.weight > 0]
    total_weight = sum(a.weight for a in counted)
    overall = None
    if counted and total_weight > 0:
        overall = _round(sum(a.weight * (a.score or 0.0) for a in counted) / total_weight)
    return Evaluation(angles, overall)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
