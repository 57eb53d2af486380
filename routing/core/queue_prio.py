"""QUEUE_PRIO of a caller in its Asterisk holding queue: a contract with the dialplan.

deploy/asterisk/extensions.conf [hotline-queue] sets, before Queue(hold-<queue>):

    QUEUE_PRIO = 2 × HOTLINE_PRIORITY + (1 if HOTLINE_REQUEUED = 1, else 0)

app_queue puts a joining caller behind every caller of a higher or equal QUEUE_PRIO and
ahead of every lower one. For integer priorities p < q, 2p + 1 < 2q: a caller back from
an unanswered offer goes ahead of everybody of its own priority and stays behind
everybody of a higher one (a gas leak above all), as the routing core orders them
(routing/core/model.py WaitingCall.order_key). That order is what Asterisk announces and
keeps while the backend is away (the position callers hear, the static overflow group
they reach through hotline-fallback). Two callers who came back with the same priority
keep the order in which they came back; the core orders those by their first entry.

The rebuild after a (re)connection reads both facts back from QueueStatus (routing/
intake.py). Ageing (routing/core/ageing.py) lives in the core only: Asterisk keeps the
priority the IVR gave.
"""

from __future__ import annotations


def queue_prio(priority: int, *, requeued: bool) -> int:
    """The QUEUE_PRIO the dialplan gives a caller of `priority` (for tests and tools)."""
    return 2 * max(priority, 0) + (1 if requeued else 0)


def from_queue_prio(value: int) -> tuple[int, bool]:
    """(the caller's priority, back from an unanswered offer?) from its QUEUE_PRIO."""
    value = max(value, 0)
    return value // 2, value % 2 == 1
