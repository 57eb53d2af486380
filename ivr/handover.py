"""What the IVR hands over when it ends, whatever carries it (FastAGI or classic AGI):
channel variables for the dialplan (deploy/asterisk/extensions.conf reads them) and
UserEvents for the CTI bridge and the router. Pure: the transports only send these."""

from __future__ import annotations

from ivr.script import IvrResult, Outcome

UserEvent = tuple[str, dict[str, str]]


def dialplan_variables(result: IvrResult) -> dict[str, str]:
    return {
        "HOTLINE_ACTION": result.action,
        "HOTLINE_SKILL": result.skill,
        "HOTLINE_PRIORITY": str(result.priority),
        "HOTLINE_CUSTOMER_ID": str(result.customer_id or ""),
        "HOTLINE_TIER": result.tier or "",
        "HOTLINE_LANGUAGE": result.language,
        "CHANNEL(language)": result.language,
    }


def user_events(result: IvrResult, holding_queue_prefix: str) -> list[UserEvent]:
    """HotlineIvrResult always; HotlineCallbackRequest when the caller asked for one."""
    customer = str(result.customer_id or "")
    events: list[UserEvent] = [
        (
            "HotlineIvrResult",
            {
                "Outcome": result.outcome.value,
                "Skill": result.skill,
                "CallPriority": str(result.priority),
                "CustomerId": customer,
                "Tier": result.tier or "",
                "CallLanguage": result.language,
                "Path": "/".join(result.path),
                "Facts": result.facts_text(),
            },
        )
    ]
    if result.outcome is Outcome.CALLBACK:
        events.append(
            (
                "HotlineCallbackRequest",
                {
                    "Number": result.callback_number,
                    "Queue": f"{holding_queue_prefix}{result.skill}",
                    "CallPriority": str(result.priority),
                    "CustomerId": customer,
                    "Reason": "IVR",
                },
            )
        )
    return events
