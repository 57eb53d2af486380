"""Settings of the back office: work-order attachments (tickets/workbench), quality
inspection (qa/), administration (admin/), privacy (privacy/) and staffing (reports/).

One class per area; each area's owner fills in its fields with defaults, so a
config.yaml without the section keeps working."""

from __future__ import annotations

from kernel.config.common import Strict


class AttachmentSettings(Strict):
    """Photos and documents attached to work orders."""


class QaSettings(Strict):
    """Quality inspection: scoring forms, sampling."""


class AdminSettings(Strict):
    """Administration: password policy."""


class PrivacySettings(Strict):
    """PIPL: masking by role, IVR PIN, encryption at rest, customer-file read limits."""


class StaffingSettings(Strict):
    """The staffing forecast on the reports page (Erlang C / A)."""
