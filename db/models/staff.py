"""Staff: users with a role (授权管理), agents' skills and levels, agent state history."""

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from db.models.base import EAGER, at_field, big_id_field, enum_field, fk, id_field, json_field


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ADMIN = "admin"


class AgentStateName(StrEnum):
    """The router's agent states (routing/ owns the machine; this is what is recorded)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"


class UserBase(SQLModel):
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=80)
    role: Role = enum_field(Role, Role.AGENT)
    extension: str | None = Field(default=None, max_length=20, unique=True)
    languages: list[str] = json_field()  # e.g. ["zh", "en"]
    department: str | None = Field(default=None, max_length=40)  # back-office staff
    active: bool = True


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = id_field()
    password_hash: str = Field(max_length=255)  # argon2 (argon2-cffi PasswordHasher)
    created_at: dt.datetime = at_field(default_now=True)
    updated_at: dt.datetime = at_field(default_now=True)
    last_login_at: dt.datetime | None = at_field()
    # Set by an administrator's create or password reset (admin/): the user's next
    # sign-in gives a token that can only change the password (agent_api/routes/auth_api.py).
    must_change_password: bool = False
    password_changed_at: dt.datetime | None = at_field()

    skills: list["AgentSkill"] = Relationship(sa_relationship_kwargs=EAGER)


class AgentSkill(SQLModel, table=True):
    __tablename__ = "agent_skills"
    __table_args__ = (
        sa.CheckConstraint("level BETWEEN 1 AND 10", name="level_1_to_10"),
        sa.Index("ix_agent_skills_skill_level", "skill", "level"),
    )

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    skill: str = Field(primary_key=True, max_length=40)  # a skill name from config.yaml
    level: int = Field(ge=1, le=10)
    updated_at: dt.datetime = at_field(default_now=True)


class AgentStateHistory(SQLModel, table=True):
    """One row per stretch of time an agent spent in a state (ended_at null = current)."""

    __tablename__ = "agent_state_history"
    __table_args__ = (
        sa.Index("ix_agent_state_history_user_id_started_at", "user_id", "started_at"),
        sa.Index("ix_agent_state_history_started_at", "started_at"),
    )

    id: int | None = big_id_field()
    user_id: int = fk("users.id", nullable=False)
    state: AgentStateName = enum_field(AgentStateName)
    reason: str | None = Field(default=None, max_length=40)  # not-ready reason code
    started_at: dt.datetime = at_field(nullable=False)
    ended_at: dt.datetime | None = at_field()
