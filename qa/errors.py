"""Quality inspection's domain errors (no HTTP statuses: qa/api.py maps them)."""

from __future__ import annotations


class QaError(Exception):
    """Something asked of quality inspection that cannot be done (what, in words)."""


class CallNotFound(QaError):
    pass


class AgentNotFound(QaError):
    pass


class NotScorable(QaError):
    """The call cannot be scored: nobody answered it, or the form is unknown/misfilled."""


class InvalidWeek(QaError):
    pass


class Conflict(QaError):
    """Someone else did the same at the same moment (scored the call, drew the week)."""
