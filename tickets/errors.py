"""Domain errors of the tickets feature. No HTTP codes here: tickets/api.py maps them."""

from __future__ import annotations

from enum import StrEnum


class TicketError(Exception):
    """Base of every error the ticket service raises on purpose."""


class TicketNotFound(TicketError):
    def __init__(self, ref: object) -> None:
        self.ref = ref
        super().__init__(f"ticket {ref} not found")


class IllegalTransition(TicketError):
    def __init__(self, state: StrEnum, action: StrEnum) -> None:
        self.state = state
        self.action = action
        super().__init__(f"cannot {action.value} a ticket that is {state.value}")


class InvalidTicket(TicketError):
    """A value is not acceptable (unknown category or department, empty reason, ...)."""


class ArticleNotFound(TicketError):
    def __init__(self, ref: object) -> None:
        self.ref = ref
        super().__init__(f"knowledge article {ref} not found")
