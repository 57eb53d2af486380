"""One call as the live view holds it (supervisor/live_calls.py). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reports.metrics import CallFacts

IN_PROGRESS = "in_progress"
# Dispositions of a call that left the line without being answered but may linger in
# progress (a callback capture, an overflow to voicemail): not waiting any more.
NOT_WAITING = frozenset({"callback_requested", "overflowed"})


@dataclass(slots=True)
class CallEntry:
    linkedid: str
    seq: int
    facts: CallFacts
    ended: bool
    queued_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    caller_number: str = ""
    agents: list[str] = field(default_factory=list)
    # In progress: Asterisk has the call (an event or a resync said so since this view
    # started); False for rows read from the database until then.
    confirmed: bool = True
    lost: bool = False  # in progress in the call log, but Asterisk has no such call
    node: str | None = None  # the Asterisk node (calls.pbx_node); None: not said

    @property
    def live(self) -> bool:
        """A call going on now, as far as Asterisk says."""
        return not self.ended and not self.lost

    @property
    def waiting(self) -> bool:
        return (
            self.live
            and self.queued_at is not None
            and self.answered_at is None
            and self.facts.disposition not in NOT_WAITING
        )
