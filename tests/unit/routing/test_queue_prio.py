"""The QUEUE_PRIO contract with the dialplan (routing/core/queue_prio.py): app_queue's order
is the router's order, and the rebuild reads priority and requeue back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.core.queue_prio import from_queue_prio, queue_prio

PRIORITIES = st.integers(0, 100_000)  # what the IVR and supervisors may give


@settings(max_examples=200, derandomize=True)
@given(p=PRIORITIES, q=PRIORITIES, requeued=st.booleans())
def test_a_requeued_caller_is_above_its_own_priority_and_below_any_higher(
    p: int, q: int, requeued: bool
) -> None:
    assert from_queue_prio(queue_prio(p, requeued=requeued)) == (p, requeued)
    assert queue_prio(p, requeued=True) > queue_prio(p, requeued=False)
    if p < q:  # app_queue: a higher QUEUE_PRIO is served first, equal ones in arrival order
        assert queue_prio(p, requeued=True) < queue_prio(q, requeued=False)


def test_the_values_the_dialplan_computes() -> None:
    assert [queue_prio(p, requeued=r) for p, r in ((0, False), (10, True), (1000, False))] == [
        0,
        21,
        2000,
    ]
    assert from_queue_prio(-3) == (0, False)  # nonsense from a hand-made entry: lowest
