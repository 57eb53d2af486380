"""Request and response bodies of the administration API (admin/api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from db.models import User

RoleName = Literal["agent", "supervisor", "qa", "admin"]
SkillName = Annotated[str, Field(min_length=1, max_length=40)]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
LanguageName = Literal["zh", "en"]
Password = Annotated[str, Field(min_length=1, max_length=200)]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_.-]{1,39}$")
    display_name: str = Field(min_length=1, max_length=80)
    role: RoleName = "agent"
    extension: str | None = Field(None, pattern=r"^\d{2,20}$")
    languages: list[LanguageName] = Field(default=["zh"], max_length=2)
    department: str | None = Field(None, max_length=40)
    skills: dict[SkillName, SkillLevel] = Field(default_factory=dict, max_length=50)
    # None: a temporary password is generated and answered once.
    password: Password | None = None


class UserChange(BaseModel):
    display_name: str | None = Field(None, min_length=1, max_length=80)
    role: RoleName | None = None
    extension: str | None = Field(None, pattern=r"^\d{2,20}$")
    languages: list[LanguageName] | None = Field(None, max_length=2)
    department: str | None = Field(None, max_length=40)
    skills: dict[SkillName, SkillLevel] | None = Field(None, max_length=50)


class PasswordResetIn(BaseModel):
    # None: a temporary password is generated and answered once.
    password: Password | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    extension: str | None
    languages: list[str]
    department: str | None
    active: bool
    skills: dict[str, int]
    must_change_password: bool
    password_changed_at: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        assert u.id is not None
        return cls(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            role=str(u.role),
            extension=u.extension,
            languages=list(u.languages or []),
            department=u.department,
            active=u.active,
            skills={s.skill: s.level for s in sorted(u.skills, key=lambda s: s.skill)},
            must_change_password=u.must_change_password,
            password_changed_at=u.password_changed_at,
            last_login_at=u.last_login_at,
            created_at=u.created_at,
        )


class UserCreated(BaseModel):
    user: UserOut
    # The temporary password when the server made one (shown once, never stored in clear).
    temporary_password: str | None = None


class PasswordResetOut(BaseModel):
    user: UserOut
    temporary_password: str | None = None


class AuditEntryOut(BaseModel):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    actor_role: str | None
    action: str
    object_type: str
    object_id: str
    source: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    total: int
    offset: int
    limit: int
    entries: list[AuditEntryOut]


class CalendarDayIn(BaseModel):
    kind: Literal["holiday", "working_day"]
    # A working day's own hours ([] = the normal workday's); ignored for a holiday.
    ranges: list[tuple[HHMM, HHMM]] = Field(default_factory=list, max_length=6)
    note: str = Field("", max_length=200)


class CalendarDayOut(BaseModel):
    day: dt.date
    kind: str
    ranges: list[tuple[str, str]]
    note: str
    updated_by: str
    updated_at: dt.datetime


class CalendarWeekIn(BaseModel):
    weekly: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[HHMM, HHMM]]]
    note: str = Field("", max_length=200)


class CalendarWeekOut(BaseModel):
    valid_from: dt.date
    weekly: dict[str, list[tuple[str, str]]]
    note: str
    updated_by: str
    updated_at: dt.datetime


class ConfigCalendarOut(BaseModel):
    weekly: dict[str, list[tuple[str, str]]]
    holidays: list[dt.date]
    extra_working_days: list[dt.date]


class CalendarOut(BaseModel):
    timezone: str
    config: ConfigCalendarOut
    days: list[CalendarDayOut]
    weeks: list[CalendarWeekOut]


class OpenAnswer(BaseModel):
    at: dt.datetime
    open: bool
    day_ranges: list[tuple[str, str]]
    holiday: bool


class ArticleRow(BaseModel):
    id: int
    title: str
    body: str
    category: str
    tags: list[str]
    language: str
    slug: str | None
    active: bool
    updated_at: dt.datetime | None
