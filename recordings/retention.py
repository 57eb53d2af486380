"""Retention: delete recording files older than recording.retention_days, unless under
legal hold. Rows stay (deleted_at, deleted_by, deletion_reason, state deleted) and each
deletion is written to audit_log: what existed, and who removed it when, stays known.

`select_expired` is the whole rule (pure); `RetentionJob` carries it out. A recording
still being written (no ended_at) is never expired.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import RecordingState
from kernel.audit import Actor
from kernel.clock import Clock, SystemClock
from kernel.config.care import RecordingSettings
from kernel.fencing import Fence, Fenced
from recordings.policy import host_path
from recordings.store import RECORDINGS, audit

log = logging.getLogger(__name__)
RETENTION = Actor(name="retention", source="recordings.retention")


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    id: int
    path: str
    ended_at: dt.datetime | None
    legal_hold: bool
    deleted_at: dt.datetime | None


def cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    return now - dt.timedelta(days=retention_days)


def is_expired(r: RecordingInfo, now: dt.datetime, retention_days: int) -> bool:
    """Ended more than retention_days ago, not under legal hold, not already deleted."""
    return (
        r.deleted_at is None
        and not r.legal_hold
        and r.ended_at is not None
        and r.ended_at < cutoff(now, retention_days)
    )


def select_expired(
    recordings: Iterable[RecordingInfo], now: dt.datetime, retention_days: int
) -> list[RecordingInfo]:
    return [r for r in recordings if is_expired(r, now, retention_days)]


@dataclass
class PurgeReport:
    dry_run: bool
    selected: list[RecordingInfo] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    file_already_gone: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    fenced: bool = False  # stopped because this process no longer leads


class RetentionJob:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: RecordingSettings,
        clock: Clock | None = None,
        fence: Fence | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock or SystemClock()
        # Inside the backend the purge runs under the cluster's leadership: each deletion
        # is fenced (kernel/fencing.py), so a leader that lost its term deletes nothing.
        self._fence = fence

    async def candidates(self, now: dt.datetime) -> list[RecordingInfo]:
        """The database's pre-selection (indexed), then the rule itself."""
        r = RECORDINGS.c
        stmt = sa.select(r.id, r.path, r.ended_at, r.legal_hold, r.deleted_at).where(
            r.deleted_at.is_(None),
            r.legal_hold == sa.false(),
            r.ended_at < cutoff(now, self._settings.retention_days),
        )
        async with self._sessions() as session:
            conn = await session.connection()
            rows = (await conn.execute(stmt.order_by(r.id))).all()
        infos = [
            RecordingInfo(x.id, x.path, x.ended_at, bool(x.legal_hold), x.deleted_at) for x in rows
        ]
        return select_expired(infos, now, self._settings.retention_days)

    async def run(self, *, dry_run: bool = False) -> PurgeReport:
        now = self._clock.now()
        report = PurgeReport(dry_run, await self.candidates(now))
        if dry_run:
            return report
        for info in report.selected:
            try:
                await self._purge(info, now, report)
            except OSError as exc:
                report.failed[info.id] = str(exc)
                log.error("retention: could not delete %s: %s", info.path, exc)
            except Fenced as exc:  # a newer leader runs the duties now: leave it to it
                report.fenced = True
                log.warning("retention: stopped, %s", exc)
                break
        return report

    async def _purge(self, info: RecordingInfo, now: dt.datetime, report: PurgeReport) -> None:
        days = self._settings.retention_days
        reason = f"retention: older than {days} days"
        async with self._sessions() as session:
            if self._fence is not None:
                await self._fence.check(session)
            conn = await session.connection()
            # Conditional: a legal hold set since the selection wins.
            marked = await conn.execute(
                sa.update(RECORDINGS)
                .where(
                    RECORDINGS.c.id == info.id,
                    RECORDINGS.c.deleted_at.is_(None),
                    RECORDINGS.c.legal_hold == sa.false(),
                )
                .values(
                    deleted_at=now,
                    deleted_by=RETENTION.name,
                    deletion_reason=reason,
                    state=RecordingState.DELETED,
                )
            )
            if marked.rowcount != 1:
                return
            existed = await asyncio.to_thread(_unlink, host_path(self._settings, info.path))
            await audit(
                conn,
                RETENTION,
                "recording.purge",
                info.id,
                now,
                path=info.path,
                ended_at=info.ended_at.isoformat() if info.ended_at else None,
                retention_days=days,
                file_existed=existed,
            )
            await session.commit()  # the file is gone: the row says so
        report.deleted.append(info.id)
        if not existed:
            report.file_already_gone.append(info.id)
        log.info("retention: deleted recording %s (%s)", info.id, info.path)


def _unlink(path: Path) -> bool:
    """True if the file was there. Other OSErrors propagate (the row update rolls back)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
