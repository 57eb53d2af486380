"""Same inputs, same decisions: run to run, and between the indexed router and the
naive scan-everything reference (the benchmark checks the same at full size)."""

from __future__ import annotations

import pytest

from routing.core.workload import Workload


def run(seed: int, *, naive: bool, ops: int = 3000) -> list[tuple[str, int, float]]:
    load = Workload.build(agents=300, skills=12, waiting=150, seed=seed, naive=naive)
    for _ in range(ops):
        _, op = load.next_op()
        load.apply(op())
    return load.decisions


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indexed_router_decides_exactly_like_the_naive_scan(seed: int) -> None:
    indexed = run(seed, naive=False)
    assert len(indexed) > 1000
    assert indexed == run(seed, naive=True)


def test_the_same_inputs_give_the_same_decisions() -> None:
    assert run(7, naive=False) == run(7, naive=False)
