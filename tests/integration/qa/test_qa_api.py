"""Quality inspection through create_app on SQLite and PostgreSQL: an inspector scores a
recorded call (audited, the sample done), a correction supersedes, the agent reads only
their own scores, supervisors rate, the evaluation combines surveys, QA and ratings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from db.models import Role, Survey, SurveyMethod, User, metadata
from hotline.http import create_app
from hotline.services import Services
from tests.harness.http_app import add_user, api_client, api_services, bearer, login
from tests.integration.qa.support import recorded_call, wav_bytes

AUDIT = metadata.tables["audit_log"]
FULL = {
    "greeting": 5, "identity_check": 5, "understanding": 5, "correct_info": 5,
    "ticket_complete": 5, "courtesy": 5, "closing": 5,
}  # fmt: skip


@dataclass
class Center:
    services: Services
    client: httpx.AsyncClient
    agent: User
    other: User
    inspector: str
    boss: str
    agent_token: str
    other_token: str


@pytest.fixture
async def center(db_url: str, tmp_path: Path) -> AsyncIterator[Center]:
    env = {"HOTLINE_RECORDING__ROOT": str(tmp_path / "recordings")}
    async with api_services(db_url, env=env) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001", display_name="王芳")
        other = await add_user(services, "agent02", Role.AGENT, "1002", display_name="张伟")
        await add_user(services, "qa01", Role.QA, display_name="李质检")
        await add_user(services, "boss", Role.SUPERVISOR, "1901", display_name="陈主管")
        async with api_client(create_app(services)) as client:
            yield Center(
                services, client, agent, other,
                await login(client, "qa01"), await login(client, "boss"),
                await login(client, "agent01"), await login(client, "agent02"),
            )  # fmt: skip


async def test_given_a_recorded_call_when_an_inspector_scores_it_then_the_agent_sees_it(
    center: Center,
) -> None:
    c = center
    call, recording_id = await recorded_call(c.services, "1700000000.1", c.agent.id or 0)
    r = await c.client.get(f"/api/qa/calls/{call.id}", headers=bearer(c.inspector))
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["recording"]["id"] == recording_id
    audio = await c.client.get(info["recording"]["audio_url"], headers=bearer(c.inspector))
    assert audio.status_code == 200
    assert audio.content == wav_bytes()

    answers = {**FULL, "correct_info": 3}
    body = {"call_id": call.id, "answers": answers, "comment": "报修信息核对仔细，电价政策答复有误"}
    r = await c.client.post("/api/qa/scores", json=body, headers=bearer(c.inspector))
    assert r.status_code == 201, r.text
    score = r.json()
    assert score["total"] == 90.0  # correct_info weighs 25 of 100: 25 * 2/5 lost
    assert (score["agent_id"], score["recording_id"]) == (c.agent.id, recording_id)
    assert score["inspector_name"] == "李质检"

    mine = (await c.client.get("/api/qa/my-scores", headers=bearer(c.agent_token))).json()
    assert [(s["total"], s["comment"]) for s in mine] == [(90.0, body["comment"])]
    theirs = (await c.client.get("/api/qa/my-scores", headers=bearer(c.other_token))).json()
    assert theirs == []
    async with c.services.engine.connect() as conn:
        audited = (
            await conn.execute(
                sa.select(AUDIT.c.actor_name, AUDIT.c.object_id, AUDIT.c.detail).where(
                    AUDIT.c.action == "qa.score"
                )
            )
        ).all()
    assert [(a, o, d["total"]) for a, o, d in audited] == [("qa01", str(call.id), 90.0)]


async def test_given_a_scored_call_when_scored_again_then_the_new_score_supersedes(
    center: Center,
) -> None:
    c = center
    call, _ = await recorded_call(c.services, "1700000000.2", c.agent.id or 0)
    first = await c.client.post(
        "/api/qa/scores", json={"call_id": call.id, "answers": FULL}, headers=bearer(c.inspector)
    )
    second = await c.client.post(
        "/api/qa/scores",
        json={"call_id": call.id, "answers": FULL, "fatal": ["rude"], "comment": "语气生硬"},
        headers=bearer(c.boss),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["total"] == 0.0
    assert second.json()["supersedes_id"] == first.json()["id"]
    listed = await c.client.get(f"/api/qa/scores?call_id={call.id}", headers=bearer(c.boss))
    by_id = {s["id"]: s for s in listed.json()}
    assert by_id[first.json()["id"]]["superseded_by"] == second.json()["id"]
    mine = (await c.client.get("/api/qa/my-scores", headers=bearer(c.agent_token))).json()
    assert [s["total"] for s in mine] == [0.0]  # only the current score
    async with c.services.engine.begin() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="refused"):
            await conn.execute(sa.text("DELETE FROM qa_scores"))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"answers": {**FULL, "closing": 6}}, "closing: points must be a whole number from 0 to 5"),
        ({"answers": {"greeting": 5}}, "score every criterion: missing identity_check"),
        ({"answers": {**FULL, "smile": 1}}, "has no criterion smile"),
        ({"answers": FULL, "fatal": ["late"]}, "has no fatal error late"),
        ({"answers": FULL, "form_key": "nope"}, "no scoring form 'nope'"),
    ],
)
async def test_given_a_score_that_does_not_fit_the_form_then_422_says_why(
    center: Center, body: dict[str, object], error: str
) -> None:
    call, _ = await recorded_call(center.services, "1700000000.3", center.agent.id or 0)
    r = await center.client.post(
        "/api/qa/scores", json={"call_id": call.id, **body}, headers=bearer(center.inspector)
    )
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_score"
    assert error in r.json()["message"]


async def test_given_a_missing_call_then_404(center: Center) -> None:
    r = await center.client.post(
        "/api/qa/scores", json={"call_id": 9999, "answers": FULL}, headers=bearer(center.inspector)
    )
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


async def test_given_surveys_scores_and_ratings_then_the_evaluation_weighs_them(
    center: Center,
) -> None:
    c = center
    call, _ = await recorded_call(c.services, "1700000000.4", c.agent.id or 0)
    await c.client.post(
        "/api/qa/scores", json={"call_id": call.id, "answers": FULL}, headers=bearer(c.inspector)
    )
    async with c.services.sessions() as s:
        for rating in (5, 3):  # 4 on average: 75 of 100
            s.add(Survey(agent_id=c.agent.id, method=SurveyMethod.IVR, rating=rating))
        await s.commit()
    r = await c.client.post(
        "/api/qa/ratings",
        json={"agent_id": c.agent.id, "period": "2026-12", "score": 3, "comment": "需加强业务学习"},
        headers=bearer(c.boss),
    )
    assert r.status_code == 201, r.text
    refused = await c.client.post(
        "/api/qa/ratings",
        json={"agent_id": c.agent.id, "period": "2026-12", "score": 5},
        headers=bearer(c.inspector),
    )
    assert refused.status_code == 403
    own = (await c.client.get("/api/qa/evaluation", headers=bearer(c.agent_token))).json()
    angles = {a["name"]: a for a in own["angles"]}
    assert (angles["survey"]["score"], angles["qa"]["score"], angles["supervisor"]["score"]) == (
        75.0, 100.0, 50.0,
    )  # fmt: skip
    assert own["overall"] == 0.3 * 75 + 0.5 * 100 + 0.2 * 50
    read = await c.client.get(f"/api/qa/agents/{c.agent.id}/evaluation", headers=bearer(c.boss))
    assert read.json()["overall"] == own["overall"]
    empty = (await c.client.get("/api/qa/evaluation", headers=bearer(c.other_token))).json()
    assert empty["overall"] is None


async def test_given_calls_of_two_agents_when_drawing_then_n_per_agent_are_queued(
    center: Center,
) -> None:
    c = center
    for i in range(5):
        await recorded_call(c.services, f"1700000100.{i}", c.agent.id or 0)
    for i in range(2):
        await recorded_call(c.services, f"1700000200.{i}", c.other.id or 0)
    r = await c.client.post(
        "/api/qa/samples/draw", json={"per_agent": 3}, headers=bearer(c.inspector)
    )
    assert r.status_code == 200, r.text
    assert r.json()["drawn"] == 5  # 3 of agent01's five, both of agent02's
    week = r.json()["week"]
    again = await c.client.post(
        "/api/qa/samples/draw", json={"week": week, "per_agent": 3}, headers=bearer(c.inspector)
    )
    assert again.json()["drawn"] == 0  # the week is already drawn
    queue = (await c.client.get(f"/api/qa/samples?week={week}", headers=bearer(c.boss))).json()
    per_agent = {a: sum(1 for q in queue if q["agent_id"] == a) for a in (c.agent.id, c.other.id)}
    assert per_agent == {c.agent.id: 3, c.other.id: 2}
    assert {q["state"] for q in queue} == {"pending"}
    first = queue[0]
    await c.client.post(
        "/api/qa/scores",
        json={"call_id": first["call_id"], "answers": FULL},
        headers=bearer(c.inspector),
    )
    pending = await c.client.get(
        f"/api/qa/samples?week={week}&state=pending", headers=bearer(c.inspector)
    )
    assert first["id"] not in {q["id"] for q in pending.json()}
    assert len(pending.json()) == 4


async def test_given_the_page_then_it_is_served(center: Center) -> None:
    r = await center.client.get("/qa/")
    assert r.status_code == 200
    assert "qa.js" in r.text
    r = await center.client.get("/qa", follow_redirects=False)
    assert r.status_code in (307, 308)
    assert r.headers["location"].endswith("/qa/")
