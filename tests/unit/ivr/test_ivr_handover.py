"""The IVR's hand-over (ivr/handover.py), shared by FastAGI and classic AGI."""

from __future__ import annotations

from ivr.handover import dialplan_variables, user_events
from ivr.script import IvrResult, Outcome


def _result(outcome: Outcome, **extra: object) -> IvrResult:
    fields: dict[str, object] = {
        "outcome": outcome,
        "skill": "billing",
        "priority": 7,
        "language": "zh",
        "customer_id": 42,
        "tier": "A",
        "path": ("main", "balance"),
        "facts": (("balance", "¥312.40, overdue"),),
        **extra,
    }
    return IvrResult(**fields)  # type: ignore[arg-type]


def test_a_queued_caller_sets_the_dialplan_contract_and_one_event() -> None:
    result = _result(Outcome.QUEUE)
    assert dialplan_variables(result) == {
        "HOTLINE_ACTION": "queue",
        "HOTLINE_SKILL": "billing",
        "HOTLINE_PRIORITY": "7",
        "HOTLINE_CUSTOMER_ID": "42",
        "HOTLINE_TIER": "A",
        "HOTLINE_LANGUAGE": "zh",
        "CHANNEL(language)": "zh",
    }
    ((name, fields),) = user_events(result, "hold-")
    assert name == "HotlineIvrResult"
    assert fields["Path"] == "main/balance"
    assert fields["Facts"] == "balance=¥312.40  overdue"  # no comma reaches the UserEvent


def test_a_callback_request_names_the_configured_holding_queue() -> None:
    result = _result(Outcome.CALLBACK, callback_number="13912345678", customer_id=None, tier=None)
    assert dialplan_variables(result)["HOTLINE_CUSTOMER_ID"] == ""
    events = dict(user_events(result, "wait-"))
    assert events["HotlineCallbackRequest"] == {
        "Number": "13912345678",
        "Queue": "wait-billing",
        "CallPriority": "7",
        "CustomerId": "",
        "Reason": "IVR",
    }
