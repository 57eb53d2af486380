"""The work-order lifecycle as a pure state machine.

  new -assign-> assigned -start-> in_progress -resolve-> resolved -inform-> informed -close-> closed
    resolve also from new / assigned (first-contact resolution); close also from resolved;
    reopen from resolved / informed / closed; transfer from any open state -> new.

- `assign` from new moves to assigned; re-assigning keeps assigned / in_progress.
- `unassign` sends an assigned ticket back to new (nobody has it).
- `resolve` is allowed from new, assigned and in_progress: an agent may resolve a
  question during the call (first-contact resolution).
- `reopen` returns to assigned when somebody still holds the ticket, else to new.
- `transfer` hands the ticket to another department: nobody there has it yet (new).
Anything else raises IllegalTransition; the service writes one ticket_events row per
applied transition (who, when, from, to).
"""

from __future__ import annotations

from enum import StrEnum

from db.models.tickets import TicketState
from tickets.errors import IllegalTransition

S = TicketState
OPEN_STATES = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS})
DONE_STATES = frozenset({S.RESOLVED, S.INFORMED, S.CLOSED})


class Action(StrEnum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    START = "start"
    RESOLVE = "resolve"
    INFORM = "inform"
    CLOSE = "close"
    REOPEN = "reopen"
    TRANSFER = "transfer"


_TABLE: dict[tuple[TicketState, Action], TicketState] = {
    (S.NEW, Action.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, Action.ASSIGN): S.ASSIGNED,
    (S.IN_PROGRESS, Action.ASSIGN): S.IN_PROGRESS,
    (S.ASSIGNED, Action.UNASSIGN): S.NEW,
    (S.NEW, Action.START): S.IN_PROGRESS,
    (S.ASSIGNED, Action.START): S.IN_PROGRESS,
    (S.NEW, Action.RESOLVE): S.RESOLVED,
    (S.ASSIGNED, Action.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, Action.RESOLVE): S.RESOLVED,
    (S.RESOLVED, Action.INFORM): S.INFORMED,
    (S.RESOLVED, Action.CLOSE): S.CLOSED,
    (S.INFORMED, Action.CLOSE): S.CLOSED,
    (S.NEW, Action.TRANSFER): S.NEW,
    (S.ASSIGNED, Action.TRANSFER): S.NEW,
    (S.IN_PROGRESS, Action.TRANSFER): S.NEW,
}
_REOPENABLE = frozenset({S.RESOLVED, S.INFORMED, S.CLOSED})


def apply(state: TicketState, action: Action, *, has_assignee: bool = False) -> TicketState:
    """The state after `action`, or IllegalTransition."""
    if action is Action.REOPEN:
        if state not in _REOPENABLE:
            raise IllegalTransition(state, action)
        return S.ASSIGNED if has_assignee else S.NEW
    try:
        return _TABLE[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def allowed(state: TicketState) -> list[Action]:
    """What may be done next (for the agent desktop's buttons)."""
    actions = [a for (s, a) in _TABLE if s is state]
    if state in _REOPENABLE:
        actions.append(Action.REOPEN)
    return list(dict.fromkeys(actions))


# A target state asked for directly (PATCH state=...) maps to one action.
_BY_TARGET: dict[TicketState, Action] = {
    S.IN_PROGRESS: Action.START,
    S.RESOLVED: Action.RESOLVE,
    S.INFORMED: Action.INFORM,
    S.CLOSED: Action.CLOSE,
}


def action_for(state: TicketState, target: TicketState) -> Action:
    """The action that takes `state` to `target` (reopen for done -> open states)."""
    if state in _REOPENABLE and target in (S.NEW, S.ASSIGNED, S.IN_PROGRESS):
        return Action.REOPEN
    action = _BY_TARGET.get(target)
    if action is None:
        raise IllegalTransition(state, target)
    return action
