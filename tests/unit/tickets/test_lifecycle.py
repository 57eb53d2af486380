"""The lifecycle machine: every legal path, and every other (state, action) raises."""

from __future__ import annotations

import itertools

import pytest

from db.models.tickets import TicketState as S
from tickets.errors import IllegalTransition
from tickets.lifecycle import Action, action_for, allowed, apply


def test_the_complaint_loop_from_new_to_closed() -> None:
    state = S.NEW
    for action, expected in [
        (Action.ASSIGN, S.ASSIGNED),
        (Action.START, S.IN_PROGRESS),
        (Action.RESOLVE, S.RESOLVED),
        (Action.INFORM, S.INFORMED),
        (Action.CLOSE, S.CLOSED),
    ]:
        state = apply(state, action)
        assert state is expected


@pytest.mark.parametrize("done", [S.RESOLVED, S.INFORMED, S.CLOSED])
def test_reopen_returns_to_the_holder_or_to_new(done: S) -> None:
    assert apply(done, Action.REOPEN, has_assignee=True) is S.ASSIGNED
    assert apply(done, Action.REOPEN, has_assignee=False) is S.NEW


@pytest.mark.parametrize("open_state", [S.NEW, S.ASSIGNED, S.IN_PROGRESS])
def test_transfer_and_first_contact_resolution_from_every_open_state(open_state: S) -> None:
    assert apply(open_state, Action.TRANSFER) is S.NEW
    assert apply(open_state, Action.RESOLVE) is S.RESOLVED


LEGAL = {
    (S.NEW, Action.ASSIGN),
    (S.ASSIGNED, Action.ASSIGN),
    (S.IN_PROGRESS, Action.ASSIGN),
    (S.ASSIGNED, Action.UNASSIGN),
    (S.NEW, Action.START),
    (S.ASSIGNED, Action.START),
    (S.NEW, Action.RESOLVE),
    (S.ASSIGNED, Action.RESOLVE),
    (S.IN_PROGRESS, Action.RESOLVE),
    (S.RESOLVED, Action.INFORM),
    (S.RESOLVED, Action.CLOSE),
    (S.INFORMED, Action.CLOSE),
    (S.RESOLVED, Action.REOPEN),
    (S.INFORMED, Action.REOPEN),
    (S.CLOSED, Action.REOPEN),
    (S.NEW, Action.TRANSFER),
    (S.ASSIGNED, Action.TRANSFER),
    (S.IN_PROGRESS, Action.TRANSFER),
}


@pytest.mark.parametrize(("state", "action"), sorted(itertools.product(S, Action)))
def test_exactly_the_listed_transitions_are_legal(state: S, action: Action) -> None:
    if (state, action) in LEGAL:
        apply(state, action)
        assert action in allowed(state)
    else:
        with pytest.raises(IllegalTransition, match=f"cannot {action.value}"):
            apply(state, action)
        assert action not in allowed(state)


def test_a_target_state_maps_to_its_action() -> None:
    assert action_for(S.ASSIGNED, S.IN_PROGRESS) is Action.START
    assert action_for(S.IN_PROGRESS, S.RESOLVED) is Action.RESOLVE
    assert action_for(S.CLOSED, S.IN_PROGRESS) is Action.REOPEN
    with pytest.raises(IllegalTransition):
        action_for(S.NEW, S.NEW)
    with pytest.raises(IllegalTransition):
        apply(S.NEW, action_for(S.NEW, S.INFORMED))
