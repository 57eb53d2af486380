"""Nothing of quality inspection is rewritten or removed behind its back: scores and
supervisor ratings are append-only, samples are never deleted (the migration's triggers,
on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from db.models import QaSample, QaScore, Role, SupervisorRating
from hotline.http import create_app
from qa import store
from tests.harness.http_app import add_call, add_user, api_client, api_services, bearer, login


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE qa_scores SET total = 100",
        "DELETE FROM qa_scores",
        "UPDATE supervisor_ratings SET score = 5",
        "DELETE FROM supervisor_ratings",
        "DELETE FROM qa_samples",
    ],
)
async def test_given_qa_history_when_rewritten_then_the_database_refuses(
    db_url: str, statement: str
) -> None:
    async with api_services(db_url) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        boss = await add_user(services, "boss", Role.SUPERVISOR)
        call = await add_call(services, "1700000500.1", agent_id=agent.id)
        assert agent.id is not None
        assert boss.id is not None
        assert call.id is not None
        async with services.sessions() as s:
            sample = QaSample(week="2026-W49", agent_id=agent.id, call_id=call.id)
            s.add(sample)
            await s.flush()
            s.add(QaScore(call_id=call.id, linkedid=call.linkedid, agent_id=agent.id,
                          inspector_id=boss.id, sample_id=sample.id, form_key="utility_call",
                          total=80.0))  # fmt: skip
            s.add(SupervisorRating(agent_id=agent.id, rater_id=boss.id, period="2026-12", score=4))
            await s.commit()
        async with services.engine.begin() as conn:
            with pytest.raises(DBAPIError, match="refused"):
                await conn.execute(sa.text(statement))
        async with services.engine.connect() as conn:
            counts = [
                await conn.scalar(sa.text(f"SELECT count(*) FROM {t}"))
                for t in ("qa_samples", "qa_scores", "supervisor_ratings")
            ]
        assert counts == [1, 1, 1]


async def test_given_a_superseded_score_when_superseded_again_then_the_database_refuses(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two inspectors correcting the same score at once: the second is told (409), and
    the call keeps one current score."""
    async with api_services(db_url) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "qa01", Role.QA)
        call = await add_call(services, "1700000600.1", agent_id=agent.id)
        full = {c.key: c.max_points for c in services.settings.qa.forms[0].criteria}
        async with api_client(create_app(services)) as client:
            token = bearer(await login(client, "qa01"))
            body = {"call_id": call.id, "answers": full}
            first = (await client.post("/api/qa/scores", json=body, headers=token)).json()
            assert (
                await client.post("/api/qa/scores", json=body, headers=token)
            ).status_code == 201

            async def stale(s: object, call_id: int) -> int:  # what the loser read
                return int(first["id"])

            monkeypatch.setattr(store, "current_score_id", stale)
            r = await client.post("/api/qa/scores", json=body, headers=token)
            assert r.status_code == 409
            assert r.json()["error"] == "conflict"
            assert "scored by someone else" in r.json()["message"]
