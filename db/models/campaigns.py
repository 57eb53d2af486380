"""Proactive service (主动服务): outbound campaigns, their contacts and attempts, the
do-not-call list and the text-message outbox.

A campaign calls a list of contacts; each contact is one number to reach (a customer's,
or a CSV row's). Every dial is an attempt row (history: never deleted); the contact row
holds where it stands (state, attempts, when to try next, the last outcome, what the
customer did). Opt-outs and the do-not-call list are rows of `do_not_call`: a number in it
(not lifted) is never dialled by any campaign. Text messages wait in `sms_messages` until
the gateway took them. Nothing here is deleted: campaigns are stopped, contacts
cancelled, do-not-call entries lifted (lifted_at), messages failed.
"""

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, enum_field, fk, id_field, json_field, text_field
from db.types import BigId


class CampaignKind(StrEnum):
    MESSAGE = "message"  # a spoken notice with the customer's data; 1 repeat 2 agent 3 ok 9 out
    SURVEY = "survey"  # keypad questions
    AGENT = "agent"  # an agent talks: preview or progressive dialing
    APPOINTMENT = "appointment"  # pick a slot by keypad: a ticket is created


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"  # by a person: contacts not done are cancelled
    COMPLETED = "completed"  # every contact is done


class DialMode(StrEnum):
    PREVIEW = "preview"  # the agent sees the file and presses call (or skip)
    PROGRESSIVE = "progressive"  # the call is placed as soon as the agent is reserved


class ContactState(StrEnum):
    PENDING = "pending"  # waits for its next attempt (next_attempt_at)
    DIALING = "dialing"  # an attempt is in progress
    DONE = "done"  # reached (see result)
    FAILED = "failed"  # attempts exhausted (see last_outcome)
    OPTED_OUT = "opted_out"  # pressed 9, or on the do-not-call list
    CANCELLED = "cancelled"  # the campaign was stopped before this contact was done


class AttemptOutcome(StrEnum):
    ANSWERED = "answered"  # a person answered (results on the contact)
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # congestion, unallocated number, originate refused
    MACHINE = "machine"  # answering machine (app_amd)
    HANGUP = "hangup"  # answered, hung up before the message ended


class SmsState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # retries exhausted


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"
    __table_args__ = (sa.Index("ix_campaigns_state", "state"),)

    id: int | None = id_field()
    name: str = Field(max_length=100)
    kind: CampaignKind = enum_field(CampaignKind)
    state: CampaignState = enum_field(CampaignState, CampaignState.DRAFT)
    dial_mode: DialMode | None = enum_field(DialMode, None)  # agent campaigns
    skill: str | None = Field(default=None, max_length=40)  # agent campaigns, "2 = agent"
    caller_id: str | None = Field(default=None, max_length=40)
    # What is said or asked: {"text": "...{name}...{arrears}..."} for a message, {"questions":
    # [...]} for a survey, {"slots": [...]} for an appointment (campaigns/scripts.py).
    script: dict[str, Any] = json_field(dict)
    # Dialing rules that differ from config's campaigns section (max_attempts, retry
    # minutes per outcome, max_channels, amd).
    rules: dict[str, Any] = json_field(dict)
    source: dict[str, Any] = json_field(dict)  # the filter or the CSV file the list came from
    sms_fallback: bool = False  # a text to contacts not reached after the last attempt
    sms_text: str | None = text_field()
    created_by_id: int | None = fk("users.id")
    created_at: dt.datetime = at_field(default_now=True)
    started_at: dt.datetime | None = at_field()
    ended_at: dt.datetime | None = at_field()


class CampaignContact(SQLModel, table=True):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "number"),
        sa.Index("ix_campaign_contacts_campaign_id_state", "campaign_id", "state"),
        sa.Index("ix_campaign_contacts_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: int | None = id_field()
    campaign_id: int = fk("campaigns.id", nullable=False)
    customer_id: int | None = fk("customers.id")
    number: str = Field(max_length=20)  # normalized (db.phones.normalize_phone)
    name: str = Field(default="", max_length=100)
    data: dict[str, Any] = json_field(dict)  # the message's fields: name, arrears, window...
    state: ContactState = enum_field(ContactState, ContactState.PENDING)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = at_field()
    last_outcome: AttemptOutcome | None = enum_field(AttemptOutcome, None)
    keys: str = Field(default="", max_length=200)  # every key pressed, in order
    answers: dict[str, Any] = json_field(dict)  # survey answers, appointment slot
    confirmed: bool = False
    opted_out: bool = False
    agent_id: int | None = fk("users.id")
    last_call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    ticket_id: int | None = fk("tickets.id")  # the appointment's ticket
    sms_id: int | None = fk("sms_messages.id")
    updated_at: dt.datetime = at_field(default_now=True)


class CampaignAttempt(SQLModel, table=True):
    """One dial of one contact: history, never deleted."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (
        sa.Index("ix_campaign_attempts_contact_id", "contact_id"),
        sa.Index("ix_campaign_attempts_campaign_id_started_at", "campaign_id", "started_at"),
        sa.UniqueConstraint("linkedid"),
    )

    id: int | None = id_field()
    campaign_id: int = fk("campaigns.id", nullable=False)
    contact_id: int = fk("campaign_contacts.id", nullable=False)
    attempt: int  # 1, 2, ...
    linkedid: str = Field(max_length=64)  # the ChannelId Originate gave (hlcp-...)
    call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    started_at: dt.datetime = at_field(nullable=False)
    answered_at: dt.datetime | None = at_field()
    ended_at: dt.datetime | None = at_field()
    outcome: AttemptOutcome | None = enum_field(AttemptOutcome, None)
    hangup_cause: str | None = Field(default=None, max_length=16)
    amd_status: str | None = Field(default=None, max_length=20)  # HUMAN, MACHINE, NOTSURE
    agent_id: int | None = fk("users.id")


class DoNotCall(SQLModel, table=True):
    """A number no campaign dials: the customer opted out (pressed 9, or asked an agent)
    or it was put on the list by hand. Lifting an entry sets lifted_at; rows stay."""

    __tablename__ = "do_not_call"
    __table_args__ = (sa.Index("ix_do_not_call_number", "number"),)

    id: int | None = id_field()
    number: str = Field(max_length=20)
    customer_id: int | None = fk("customers.id")
    reason: str = Field(max_length=40)  # opt_out, manual, registry
    campaign_id: int | None = fk("campaigns.id")
    note: str | None = Field(default=None, max_length=200)
    created_by_id: int | None = fk("users.id")
    created_at: dt.datetime = at_field(default_now=True)
    lifted_at: dt.datetime | None = at_field()
    lifted_by_id: int | None = fk("users.id")


class SmsMessage(SQLModel, table=True):
    """A text message to a customer, kept until the SMS gateway took it (integrations/sms.py)."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        sa.Index("ix_sms_messages_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: int | None = id_field()
    number: str = Field(max_length=20)
    customer_id: int | None = fk("customers.id")
    text: str = text_field("")
    reason: str = Field(max_length=40)  # campaign, ticket_state
    campaign_id: int | None = fk("campaigns.id")
    ticket_id: int | None = fk("tickets.id")
    state: SmsState = enum_field(SmsState, SmsState.PENDING)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = at_field()
    last_error: str | None = Field(default=None, max_length=200)
    gateway_id: str | None = Field(default=None, max_length=80)  # the gateway's message id
    created_at: dt.datetime = at_field(default_now=True)
    sent_at: dt.datetime | None = at_field()
