"""Quality inspection's use cases over the database: draw the week's samples, score a
call (audited, superseding the call's previous score), rate an agent (audited), read
scores, and evaluate an agent from several angles (qa/evaluation.py).

Recordings are only referenced here (their ids); playing one is the recordings API's
job (GET /api/recordings/{id}/audio), which checks access, audits and decrypts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.services import Services
from kernel.audit import Actor, audit_row, write_audit
from qa import store
from qa.errors import AgentNotFound, CallNotFound, Conflict, InvalidWeek, NotScorable
from qa.evaluation import evaluate
from qa.sampling import Candidate, draw, week_bounds, week_of
from qa.scoring import InvalidScore, ScoreResult, check


class QaService:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._settings = services.settings.qa

    def forms(self) -> dict[str, Any]:
        return {
            "default_form": self._settings.default_form,
            "forms": [f.model_dump() for f in self._settings.forms],
        }

    def this_week(self) -> str:
        return week_of(self._services.clock.now(), self._services.settings.center.timezone)

    async def draw_samples(
        self, actor: Actor, week: str | None, per_agent: int | None
    ) -> dict[str, Any]:
        week = week or self.this_week()
        try:
            start, end = week_bounds(week, self._services.settings.center.timezone)
        except ValueError as exc:
            raise InvalidWeek(str(exc)) from None
        n = per_agent or self._settings.samples_per_agent_week
        now = self._services.clock.now()
        try:
            chosen = await self._draw(actor, week, start, end, n, now)
        except IntegrityError:
            raise Conflict(f"{week} was being drawn at the same time: draw again") from None
        return {"week": week, "per_agent": n, "drawn": len(chosen)}

    async def _draw(
        self,
        actor: Actor,
        week: str,
        start: dt.datetime,
        end: dt.datetime,
        n: int,
        now: dt.datetime,
    ) -> list[Candidate]:
        async with self._services.engine.begin() as s:
            chosen = draw(
                await store.candidates(s, start, end), await store.sampled(s, week),
                per_agent=n, week=week,
            )  # fmt: skip
            await store.add_samples(s, week, chosen, actor.id, now)
            row = audit_row(
                actor=actor, action="qa.sample_draw", object_type="qa_week", object_id=week,
                detail={"per_agent": n, "drawn": [c.call_id for c in chosen]}, at=now,
            )  # fmt: skip
            await write_audit(s, [row])
        return chosen

    async def samples(
        self, week: str | None, state: str | None, agent_id: int | None
    ) -> list[dict[str, Any]]:
        async with self._services.engine.connect() as s:
            return await store.samples(s, week=week, state=state, agent_id=agent_id)

    async def call(self, call_id: int) -> dict[str, Any]:
        """What an inspector needs to listen to and score one call."""
        async with self._services.engine.connect() as s:
            found = await store.call(s, call_id)
            if found is None:
                raise CallNotFound(f"no call {call_id}")
            recordings = await store.recordings_of(s, call_id)
            scores = await store.scores(s, call_id=call_id)
        playable = [r for r in recordings if r["state"] == "completed" and not r["deleted_at"]]
        main = found.pop("main_recording_id")
        chosen = next((r for r in playable if r["id"] == main), playable[-1] if playable else None)
        for r in recordings:
            r["audio_url"] = f"/api/recordings/{r['id']}/audio"
        return {
            **found,
            "recording": chosen,
            "recordings": recordings,
            "scores": scores,
        }

    async def score(
        self,
        actor: Actor,
        *,
        call_id: int,
        form_key: str | None,
        answers: dict[str, int],
        fatal: list[str],
        comment: str | None,
    ) -> dict[str, Any]:
        form = self._settings.form(form_key or self._settings.default_form)
        if form is None:
            raise NotScorable(f"no scoring form {form_key!r} in config (qa.forms)")
        try:
            result = check(form, answers, fatal)
        except InvalidScore as exc:
            raise NotScorable(str(exc)) from None
        try:
            return await self._save_score(actor, call_id, form.key, result, comment)
        except IntegrityError:  # the unique supersedes_id: a score given meanwhile
            raise Conflict(
                f"call {call_id} was scored by someone else at the same moment: reload it"
            ) from None

    async def _save_score(
        self, actor: Actor, call_id: int, form_key: str, result: ScoreResult, comment: str | None
    ) -> dict[str, Any]:
        now = self._services.clock.now()
        async with self._services.engine.begin() as s:
            call = await store.call(s, call_id)
            if call is None:
                raise CallNotFound(f"no call {call_id}")
            if call["agent_id"] is None:
                raise NotScorable(f"call {call_id} was not answered by an agent: nothing to score")
            recordings = [r for r in await store.recordings_of(s, call_id) if not r["deleted_at"]]
            main = call["main_recording_id"]
            recording_id = main if main else (recordings[-1]["id"] if recordings else None)
            previous = await store.current_score_id(s, call_id)
            sample_id = await store.pending_sample(s, call_id)
            values = {
                "call_id": call_id, "linkedid": call["linkedid"], "recording_id": recording_id,
                "agent_id": call["agent_id"], "inspector_id": actor.id, "sample_id": sample_id,
                "form_key": form_key, "answers": result.answers, "fatal": result.fatal,
                "total": result.total, "comment": comment, "supersedes_id": previous,
                "created_at": now,
            }  # fmt: skip
            score_id = await store.add_score(s, values)
            if sample_id is not None:
                await store.mark_done(s, sample_id, now)
            row = audit_row(
                actor=actor, action="qa.score", object_type="call", object_id=call_id,
                detail={"score_id": score_id, "agent_id": call["agent_id"], "form": form_key,
                        "total": result.total, "fatal": result.fatal, "supersedes": previous},
                at=now,
            )  # fmt: skip
            await write_audit(s, [row])
            (saved,) = await store.scores(s, score_id=score_id)
        return saved

    async def scores(self, agent_id: int | None, call_id: int | None) -> list[dict[str, Any]]:
        async with self._services.engine.connect() as s:
            return await store.scores(s, agent_id=agent_id, call_id=call_id)

    async def agents(self) -> list[dict[str, Any]]:
        async with self._services.engine.connect() as s:
            return await store.agents(s)

    async def _agent(self, s: AsyncConnection, agent_id: int) -> dict[str, Any]:
        found = await store.user(s, agent_id)
        if found is None or found["role"] != "agent":
            raise AgentNotFound(f"no agent with user id {agent_id}")
        return found

    async def rate(
        self, actor: Actor, *, agent_id: int, period: str, score: int, comment: str | None
    ) -> dict[str, Any]:
        now = self._services.clock.now()
        async with self._services.engine.begin() as s:
            await self._agent(s, agent_id)
            values = {"agent_id": agent_id, "rater_id": actor.id, "period": period,
                      "score": score, "comment": comment, "created_at": now}  # fmt: skip
            rating_id = await store.add_rating(s, values)
            row = audit_row(
                actor=actor, action="qa.rating", object_type="user", object_id=agent_id,
                detail={"rating_id": rating_id, "period": period, "score": score}, at=now,
            )  # fmt: skip
            await write_audit(s, [row])
        return {"id": rating_id, **values, "created_at": now.isoformat()}

    async def ratings(self, agent_id: int) -> list[dict[str, Any]]:
        async with self._services.engine.connect() as s:
            await self._agent(s, agent_id)
            return await store.ratings(s, agent_id)

    async def evaluation(self, agent_id: int, days: int | None) -> dict[str, Any]:
        days = days or self._settings.evaluation_days
        since = self._services.clock.now() - dt.timedelta(days=days)
        async with self._services.engine.connect() as s:
            agent = await self._agent(s, agent_id)
            surveys = await store.survey_ratings(s, agent_id, since)
            scores = await store.scores(s, agent_id=agent_id, since=since, current_only=True)
            ratings = await store.ratings(s, agent_id, since)
        result = evaluate(
            self._settings.evaluation,
            survey_ratings=surveys,
            qa_totals=[float(r["total"]) for r in scores],
            supervisor_scores=[int(r["score"]) for r in ratings],
        )
        return {
            "agent": {k: agent[k] for k in ("id", "username", "display_name")},
            "days": days,
            "since": since.isoformat(),
            "overall": result.overall,
            "angles": [dataclasses.asdict(a) for a in result.angles],
            "ratings": ratings[:20],
        }

    async def my_scores(self, user_id: int) -> list[dict[str, Any]]:
        async with self._services.engine.connect() as s:
            return await store.scores(s, agent_id=user_id, current_only=True)
