"""A QA score from an inspector's answers, against a scoring form of config.yaml (qa.forms).

Pure: no database, no HTTP. The total is a percentage (0-100, one decimal):

    total = 100 * sum(weight * points / max_points) / sum(weight)

and 0 when any fatal error was found (rude to the customer, personal data disclosed,
a gas leak not escalated: one of these fails the call whatever else went well).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kernel.config.backoffice import QaForm


class InvalidScore(ValueError):
    """A submitted score that does not fit its form (what is wrong, in words)."""


@dataclass(frozen=True, slots=True)
class ScoreResult:
    answers: dict[str, int]
    fatal: list[str]
    total: float


def total_of(form: QaForm, answers: Mapping[str, int], fatal: Sequence[str] = ()) -> float:
    """The total of valid answers (see `check`); 0.0 with any fatal error."""
    if fatal:
        return 0.0
    weights = sum(c.weight for c in form.criteria)
    earned = sum(c.weight * answers[c.key] / c.max_points for c in form.criteria)
    return round(100 * earned / weights, 1)


def check(form: QaForm, answers: Mapping[str, int], fatal: Sequence[str] = ()) -> ScoreResult:
    """Validate a submitted score against `form` and compute its total.

    Every criterion must be answered with whole points 0..max_points; no unknown
    criterion; fatal errors must be the form's own, each named once."""
    known = {c.key: c for c in form.criteria}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise InvalidScore(f"form {form.key!r} has no criterion {', '.join(unknown)}")
    missing = [c.key for c in form.criteria if c.key not in answers]
    if missing:
        raise InvalidScore(f"score every criterion: missing {', '.join(missing)}")
    for key, points in answers.items():
        top = known[key].max_points
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= top:
            raise InvalidScore(f"{key}: points must be a whole number from 0 to {top}")
    fatal_keys = {f.key for f in form.fatal_errors}
    strange = sorted(set(fatal) - fatal_keys)
    if strange:
        raise InvalidScore(f"form {form.key!r} has no fatal error {', '.join(strange)}")
    if len(set(fatal)) != len(fatal):
        raise InvalidScore("a fatal error is named twice")
    ordered = {c.key: answers[c.key] for c in form.criteria}
    listed = [f.key for f in form.fatal_errors if f.key in set(fatal)]
    return ScoreResult(ordered, listed, total_of(form, ordered, listed))
