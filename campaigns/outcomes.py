"""What an attempt came to when the call flow did not say, pure: from the call as the
PBX ended it (answered or not, the Q.850 hangup cause [hotline-campaign-dial] gives the
campaign leg: 17 busy, 19 no answer, Dial's own cause otherwise)."""

from __future__ import annotations

from db.models.campaigns import AttemptOutcome

BUSY_CAUSES = frozenset({"17", "21"})  # user busy, call rejected
NO_ANSWER_CAUSES = frozenset({"16", "18", "19", "0", ""})  # cleared / no response / no answer


def classify_end(*, answered: bool, cause: str | None) -> AttemptOutcome:
    """The attempt's outcome from how its call ended, when the call flow wrote none: an
    answered call whose flow never reported hung up on it (or the flow was away)."""
    if answered:
        return AttemptOutcome.HANGUP
    code = (cause or "").strip()
    if code in BUSY_CAUSES:
        return AttemptOutcome.BUSY
    if code in NO_ANSWER_CAUSES:
        return AttemptOutcome.NO_ANSWER
    return AttemptOutcome.FAILED  # congestion, unallocated number, network out of order...
