"""Sign-in, tokens and what the agent desktop offers (agent_api/ reads these)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from kernel.config.common import Label, Name, Strict

MIN_SECRET_LENGTH = 32
# Values people paste from tutorials; refused even when long enough.
KNOWN_DEFAULTS = {
    "changeme",
    "change-me",
    "secret",
    "secret-key",
    "your-secret-key",
    "hotline",
    "hotline-demo",
    "password",
    "development",
    "insecure",
}


def secret_problem(value: str) -> str | None:
    """Why `value` cannot sign tokens in production, or None when it can."""
    if value.strip().lower() in KNOWN_DEFAULTS or "changethis" in value.lower():
        return "is a well-known default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < 8:
        return "has too few distinct characters to be random"
    return None


class AuthSettings(Strict):
    # Local development and tests only: a missing secret is replaced by a random one per
    # process (tokens then die with the process) and weak secrets are accepted.
    dev_mode: bool = False
    # Only from the environment (HOTLINE_AUTH__SECRET_KEY): the loader refuses it in the
    # file. Signs the access tokens (HS256): every API process of a center shares it.
    # Declared after dev_mode: its check reads dev_mode.
    secret_key: SecretStr | None = None
    # Access tokens are short-lived; the desktop refreshes them while it is open.
    token_minutes: int = Field(15, ge=1, le=24 * 60)
    # Tickets for opening the agent websocket with ?ticket= (single purpose, short).
    ws_ticket_seconds: int = Field(30, ge=5, le=300)
    # Failed sign-ins allowed per (username, client address) within the window.
    login_attempts: int = Field(5, ge=1)
    login_window_seconds: int = Field(300, ge=1)
    # Agents open customer files while on a call with that customer (always), and via
    # search when this is on_call_or_search; on_call also refuses agents the search.
    agent_customer_access: Literal["on_call", "on_call_or_search"] = "on_call_or_search"
    # After the call ends the agent keeps access this long (wrap-up, the ticket).
    on_call_grace_seconds: int = Field(600, ge=0)

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and not info.data.get("dev_mode", False):
            problem = secret_problem(value.get_secret_value())
            if problem:
                raise ValueError(
                    f"the secret {problem}: set HOTLINE_AUTH__SECRET_KEY to a random value "
                    "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`), "
                    "or auth.dev_mode: true for local development"
                )
        return value


class WrapUpCode(Strict):
    name: Name
    label: Label


class DeskSettings(Strict):
    """The agent desktop: wrap-up codes offered after a call, how much history a pop shows."""

    wrap_up_codes: list[WrapUpCode] = [
        WrapUpCode(name="resolved", label=Label(zh="已解决", en="Resolved")),
        WrapUpCode(name="info_given", label=Label(zh="已告知信息", en="Information given")),
        WrapUpCode(name="ticket_created", label=Label(zh="已建工单", en="Ticket created")),
        WrapUpCode(name="transferred", label=Label(zh="已转接", en="Transferred")),
        WrapUpCode(name="callback_promised", label=Label(zh="约定回电", en="Callback promised")),
        WrapUpCode(name="wrong_number", label=Label(zh="打错电话", en="Wrong number")),
    ]
    pop_recent_calls: int = Field(5, ge=0, le=50)
    pop_open_tickets: int = Field(5, ge=0, le=50)
