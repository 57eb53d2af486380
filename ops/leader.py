"""The one place ops/ reads this process's part in the cluster (leading or standby).

Leadership is being generalised (kernel/leadership.py, hotline/cluster.py): when where
it lives changes, only `leader_state` changes; readiness and metrics read it here."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.services import Services


@dataclass(frozen=True)
class LeaderState:
    leading: bool
    term: int  # fencing token of the last term led (0: never led)


def leader_state(services: Services) -> LeaderState | None:
    """None when this process takes no part in the cluster duties (an api process)."""
    leadership = services.features.leadership
    if leadership is None:
        return None
    return LeaderState(leading=leadership.is_leader, term=leadership.token)
