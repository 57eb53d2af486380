"""Every table, by aggregate. Importing this package registers them all on
`SQLModel.metadata` (what Alembic compares against)."""

from sqlmodel import SQLModel

from db.models.attachments import TicketAttachment
from db.models.audit import AuditLog
from db.models.calendar import CalendarDay, CalendarDayKind, CalendarWeek
from db.models.calls import Call, CallBase, CallEvent
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignKind,
    CampaignState,
    ContactState,
    DialMode,
    DoNotCall,
    SmsMessage,
    SmsState,
)
from db.models.care import (
    CallbackRequest,
    CallbackRequestBase,
    CallbackState,
    FollowUp,
    FollowUpBase,
    FollowUpMethod,
    FollowUpState,
    Survey,
    SurveyBase,
    SurveyMethod,
)
from db.models.cluster import ClusterFence
from db.models.customers import (
    Customer,
    CustomerBase,
    CustomerPhone,
    CustomerPhoneBase,
    Language,
    PhoneKind,
    Tier,
)
from db.models.integrations import DeliveryState, WebhookAttempt, WebhookDelivery
from db.models.knowledge import KbArticle, KbArticleBase, Notice, NoticeBase, NoticeKind
from db.models.privacy import CustomerErasure, CustomerFileGrant
from db.models.qa import QaSample, QaScore, SampleState, SupervisorRating
from db.models.recordings import Recording, RecordingBase, RecordingState
from db.models.staff import AgentSkill, AgentStateHistory, AgentStateName, Role, User, UserBase
from db.models.tickets import (
    Ticket,
    TicketBase,
    TicketCall,
    TicketEvent,
    TicketPriority,
    TicketSequence,
    TicketSource,
    TicketState,
)
from kernel.calls import Direction, Disposition  # the calls table's enums

metadata = SQLModel.metadata

__all__ = [
    "AgentSkill",
    "AgentStateHistory",
    "AgentStateName",
    "AttemptOutcome",
    "AuditLog",
    "CalendarDay",
    "CalendarDayKind",
    "CalendarWeek",
    "Call",
    "CallBase",
    "CallEvent",
    "CallbackRequest",
    "CallbackRequestBase",
    "CallbackState",
    "Campaign",
    "CampaignAttempt",
    "CampaignContact",
    "CampaignKind",
    "CampaignState",
    "ClusterFence",
    "ContactState",
    "Customer",
    "CustomerBase",
    "CustomerErasure",
    "CustomerFileGrant",
    "CustomerPhone",
    "CustomerPhoneBase",
    "DeliveryState",
    "DialMode",
    "Direction",
    "Disposition",
    "DoNotCall",
    "FollowUp",
    "FollowUpBase",
    "FollowUpMethod",
    "FollowUpState",
    "KbArticle",
    "KbArticleBase",
    "Language",
    "Notice",
    "NoticeBase",
    "NoticeKind",
    "PhoneKind",
    "QaSample",
    "QaScore",
    "Recording",
    "RecordingBase",
    "RecordingState",
    "Role",
    "SampleState",
    "SmsMessage",
    "SmsState",
    "SupervisorRating",
    "Survey",
    "SurveyBase",
    "SurveyMethod",
    "Ticket",
    "TicketAttachment",
    "TicketBase",
    "TicketCall",
    "TicketEvent",
    "TicketPriority",
    "TicketSequence",
    "TicketSource",
    "TicketState",
    "Tier",
    "User",
    "UserBase",
    "WebhookAttempt",
    "WebhookDelivery",
    "metadata",
]
