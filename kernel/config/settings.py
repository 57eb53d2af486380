"""The one typed settings object: config.yaml, then HOTLINE_* environment overrides."""

from __future__ import annotations

from pydantic import Field, model_validator

from kernel.config.auth import AuthSettings, DeskSettings
from kernel.config.backoffice import (
    AdminSettings,
    AttachmentSettings,
    PrivacySettings,
    QaSettings,
    StaffingSettings,
)
from kernel.config.campaigns import CampaignSettings, SmsSettings
from kernel.config.care import RecordingSettings, ReportSettings, TicketSettings
from kernel.config.center import (
    BusinessHours,
    CenterSettings,
    QueueSettings,
    RoutingSettings,
    SkillSettings,
    TierSettings,
)
from kernel.config.common import Name, Strict
from kernel.config.ivr_menu import IvrSettings
from kernel.config.pbx import PbxSettings, TwilioSettings


class HttpSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Browsers allowed to open the websockets (Origin header); empty = same host only.
    allowed_origins: list[str] = []


class DatabaseSettings(Strict):
    # sqlite:///var/hotline.db or postgresql://user@host/db; drivers are chosen by db/.
    url: str = "sqlite:///var/hotline.db"


class RedisSettings(Strict):
    # None = in-process event bus (one machine, nothing to install).
    url: str | None = None


class ClusterSettings(Strict):
    """Several backend processes (kernel/leadership.py, hotline/cluster.py): one of the
    `pbx` processes leads and runs the cluster-wide duties; a standby takes over when
    the leader's lease lapses."""

    name: Name = "default"  # the lease's name: centers sharing one Redis differ here
    # A killed leader is replaced after at most lease_seconds (+ renew_seconds).
    lease_seconds: float = Field(10.0, gt=1.0, le=300.0)
    renew_seconds: float = Field(2.0, gt=0.1, le=60.0)

    @model_validator(mode="after")
    def _renew_well_within_the_lease(self) -> ClusterSettings:
        if self.renew_seconds >= self.lease_seconds * 0.5:
            raise ValueError("cluster.renew_seconds must be under half of lease_seconds")
        return self


class OpsSettings(Strict):
    """/healthz, /readyz and /metrics of a `pbx` process, which serves no HTTP API: on
    this port when set (api and all processes serve them on http.port)."""

    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)


class Settings(Strict):
    center: CenterSettings
    pbx: PbxSettings = PbxSettings()
    twilio: TwilioSettings = TwilioSettings()
    http: HttpSettings = HttpSettings()
    auth: AuthSettings = AuthSettings()
    desk: DeskSettings = DeskSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    cluster: ClusterSettings = ClusterSettings()
    ops: OpsSettings = OpsSettings()
    skills: list[SkillSettings] = Field(min_length=1)
    queues: list[QueueSettings] = Field(min_length=1)
    tiers: dict[str, TierSettings]
    routing: RoutingSettings = RoutingSettings()
    business_hours: BusinessHours
    ivr: IvrSettings
    tickets: TicketSettings
    recording: RecordingSettings = RecordingSettings()
    reports: ReportSettings = ReportSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    qa: QaSettings = QaSettings()
    admin: AdminSettings = AdminSettings()
    privacy: PrivacySettings = PrivacySettings()
    staffing: StaffingSettings = StaffingSettings()
    campaigns: CampaignSettings = CampaignSettings()
    sms: SmsSettings = SmsSettings()

    @model_validator(mode="after")
    def _references_resolve(self) -> Settings:
        from kernel.config.references import check_references

        check_references(self)
        return self

    # Lookups used across the code base.
    def skill_names(self) -> set[str]:
        return {s.name for s in self.skills}

    def queue(self, name: str) -> QueueSettings:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(name)

    def queue_for_skill(self, skill: str) -> QueueSettings | None:
        return next((q for q in self.queues if q.skill == skill), None)

    def ageing_cap(self) -> int:
        """The highest priority ageing lifts a waiting call to (routing.core.ageing)."""
        cap = self.routing.ageing.max_priority
        return max((t.priority for t in self.tiers.values()), default=0) if cap is None else cap

    def tier_priority(self, tier: str | None) -> int:
        if tier and tier in self.tiers:
            return self.tiers[tier].priority
        return min(t.priority for t in self.tiers.values())
