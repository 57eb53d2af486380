"""The CEL cursor's pass on real databases: the call log says which calls it holds
(SqlCallHistory.logged, in chunks under every backend's parameter limit) and the cursor
moves over the calls it holds, stopping before one it does not (a recovery not yet
written), whatever the size of the batches it reads."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cti.calllog.history import SqlCallHistory
from cti.calllog.writer import ensure_call
from cti.cel.recovery import RecoverySettings, advance_cursor
from cti.cel.store import SqlCelStore
from cti.tracking.tracker import CallTracker
from hotline.services import Services
from tests.harness.http_app import api_services
from tests.integration.cti.cel_support import fill_cel
from tests.unit.cti.cel_scenario import T0

pytestmark = pytest.mark.integration


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async with api_services(db_url) as s:
        yield s


async def log_calls(services: Services, node: str, linkedids: list[str]) -> None:
    async with services.sessions() as s:
        for linkedid in linkedids:
            await ensure_call(s, linkedid, pbx_node=node, started_at=T0)
        await s.commit()


async def test_given_calls_on_two_nodes_then_logged_names_this_nodes_only(
    services: Services,
) -> None:
    mine = [f"1733000000.{i}" for i in range(1_200)]  # more than two chunks of 500
    await log_calls(services, "pbx-a", mine)
    await log_calls(services, "pbx-b", ["1733000000.9999"])
    history = SqlCallHistory(services.sessions, pbx_node="pbx-a")
    asked = [*mine[::3], "1733000000.9999", "never"]
    assert await history.logged(asked) == set(mine[::3])
    assert await history.logged([]) == set()


@pytest.mark.parametrize("batch", [7, 2_000])
async def test_given_a_call_not_yet_logged_then_the_cursor_stops_before_it(
    services: Services, empty_db_url: str, batch: int
) -> None:
    fill_cel(empty_db_url)  # fx-answered: rows 1-25, fx-callback: rows 26-40
    store = SqlCelStore(empty_db_url)
    history = SqlCallHistory(services.sessions, pbx_node="pbx-a")
    settings = RecoverySettings(cursor_batch=batch)
    late = T0 + 3_600
    try:
        await history.save_cursor(store.identity, 0)
        await log_calls(services, "pbx-a", ["fx-answered"])
        assert await advance_cursor(CallTracker(), history, store, late, settings) == 25
        await log_calls(services, "pbx-a", ["fx-callback"])
        assert await advance_cursor(CallTracker(), history, store, late, settings) == 40
        assert await advance_cursor(CallTracker(), history, store, late, settings) is None
        assert await history.cursor() == (store.identity, 40)
    finally:
        await store.close()
