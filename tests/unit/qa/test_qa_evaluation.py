"""The agent's multi-angle evaluation: customer surveys, QA scores, supervisor ratings on
0-100, weighted by config, an angle without data left out."""

from __future__ import annotations

import pytest

from kernel.config.backoffice import QaEvaluationWeights
from qa.evaluation import evaluate, rating_percent

W = QaEvaluationWeights(survey=0.3, qa=0.5, supervisor=0.2)


@pytest.mark.parametrize(("rating", "percent"), [(1, 0.0), (3, 50.0), (5, 100.0), (4.5, 87.5)])
def test_given_a_rating_then_it_maps_onto_0_to_100(rating: float, percent: float) -> None:
    assert rating_percent(rating) == percent


def test_given_every_angle_then_the_overall_is_the_weighted_mean() -> None:
    result = evaluate(W, survey_ratings=[5, 3], qa_totals=[80.0, 100.0], supervisor_scores=[2])
    scores = {a.name: (a.count, a.average, a.score) for a in result.angles}
    assert scores == {
        "survey": (2, 4.0, 75.0),
        "qa": (2, 90.0, 90.0),
        "supervisor": (1, 2.0, 25.0),
    }
    assert result.overall == round(0.3 * 75 + 0.5 * 90 + 0.2 * 25, 1)


def test_given_no_survey_then_the_other_angles_are_reweighted() -> None:
    result = evaluate(W, survey_ratings=[], qa_totals=[60.0], supervisor_scores=[5])
    assert result.overall == round((0.5 * 60 + 0.2 * 100) / 0.7, 1)


def test_given_no_data_then_there_is_no_overall_score_rather_than_0() -> None:
    result = evaluate(W, survey_ratings=[], qa_totals=[], supervisor_scores=[])
    assert result.overall is None
    assert all(a.score is None and a.count == 0 for a in result.angles)


def test_given_a_zero_weight_then_that_angle_does_not_count() -> None:
    only_qa = QaEvaluationWeights(survey=0, qa=1, supervisor=0)
    result = evaluate(only_qa, survey_ratings=[1], qa_totals=[70.0], supervisor_scores=[1])
    assert result.overall == 70.0
