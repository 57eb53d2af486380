"""Every table, by aggregate. Importing this package registers them all on
`SQLModel.metadata` (what Alembic compares against)."""

from sqlmodel import SQLModel

from db.models.audit import AuditLog
from db.models.calls import Call, CallBase, CallEvent
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
    "AuditLog",
    "Call",
    "CallBase",
    "CallEvent",
    "CallbackRequest",
    "CallbackRequestBase",
    "CallbackState",
    "ClusterFence",
    "Customer",
    "CustomerBase",
    "CustomerPhone",
    "CustomerPhoneBase",
    "DeliveryState",
    "Direction",
    "Disposition",
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
    "Recording",
    "RecordingBase",
    "RecordingState",
    "Role",
    "Survey",
    "SurveyBase",
    "SurveyMethod",
    "Ticket",
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
