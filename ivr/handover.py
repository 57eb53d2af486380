"""What the IVR hands over when it ends, whatever carries it (FastAGI or classic AGI):
channel variables for the dialplan (deploy/asterisk/extensions.conf reads them) and
UserEvents for the CTI bridge and the router. The functions are pure; `hand_over` sends
them over a FastAGI session (the IVR's server and the test stubs that stand in for it)."""

from __future__ import annotations

from ivr.agi import AgiConnection
from ivr.script import IvrResult, Outcome

UserEvent = tuple[str, dict[str, str]]

_UNSAFE = str.maketrans(
    {",": " ", "\r": " ", "\n": " ", '"': "", "\\": "", "(": "（", ")": "）", "[": "【", "]": "】"}
)


def user_event_value(text: str) -> str:
    """A UserEvent header value that arrives as written: commas separate UserEvent
    arguments, and Asterisk's argument parser (ast_app_separate_args) drops quotes and
    backslashes and lets ( ) [ ] hold commas; newlines would end the AMI header.
    ASCII brackets become full-width ones, which Chinese text uses anyway."""
    return text.translate(_UNSAFE).strip()


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


async def hand_over(agi: AgiConnection, result: IvrResult, holding_queue_prefix: str) -> None:
    """The IVR's result to the dialplan (variables) and to the bridge (UserEvents)."""
    # One EXEC MSet instead of seven SET VARIABLE round trips (MSet splits on commas and
    # sets functions such as CHANNEL(language) too; no value here can hold a comma).
    variables = dialplan_variables(result)
    pairs = ",".join(f"{name}={user_event_value(value)}" for name, value in variables.items())
    await agi.exec("MSet", pairs)
    for name, fields in user_events(result, holding_queue_prefix):
        await agi.exec("UserEvent", user_event(name, fields))


def user_event(name: str, fields: dict[str, str]) -> str:
    """The arguments of UserEvent(): the event's name, then `Key: value` headers."""
    return ",".join([name, *(f"{k}: {user_event_value(v)}" for k, v in fields.items())])
