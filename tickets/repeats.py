"""Repeat contacts: what a new contact does to the open ticket it duplicates. Pure.

A new contact (an IVR fault report, an agent's ticket) about the category of an open
ticket of the same customer (or, unidentified, the same contact number) is linked to that
ticket instead of creating a duplicate (tickets/links.py find_open_duplicate). Duplicate
detection must never absorb an emergency into a lesser ticket, so:

- a contact of a HIGHER priority raises the open ticket to that priority: a gas-leak
  report (urgent) about a customer's open normal repair ticket makes it an urgent ticket,
  with the urgent SLA deadlines counted from the report (tickets/sla_policy.py
  `tightened`), audited (`priority_raised`: old -> new, by the IVR or the agent) and
  published like every ticket change;
- a contact of a lower or equal priority is a plain repeat: the ticket keeps its priority.

Every path that creates-or-links goes through TicketCreation.create
(tickets/service_create.py): the agent API, a ticket from a call, the IVR's fault report.
"""

from __future__ import annotations

from db.models.tickets import TicketPriority

_RANK = {p: i for i, p in enumerate(TicketPriority)}  # low < normal < high < urgent


def raised_priority(
    current: TicketPriority | str, contact: TicketPriority | str
) -> TicketPriority | None:
    """The priority the open ticket must be raised to, or None to leave it as it is."""
    have, want = TicketPriority(current), TicketPriority(contact)
    return want if _RANK[want] > _RANK[have] else None
