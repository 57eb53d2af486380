"""The campaigns feature's domain errors (hotline/http.py DOMAIN_ERRORS maps them to HTTP:
not found 404, illegal transition 409, invalid 422). They carry no status codes."""

from __future__ import annotations


class CampaignError(Exception):
    """Base: a campaign request that cannot be done; the message says why."""


class CampaignNotFound(CampaignError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"no campaign {campaign_id}")


class DoNotCallNotFound(CampaignError):
    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no do-not-call entry {entry_id}")


class IllegalCampaignTransition(CampaignError):
    """start/pause/resume/stop/edit from a state that does not allow it (409)."""


class InvalidCampaign(CampaignError):
    """A script, rule or filter that does not fit (422)."""
