"""The IVR menu tree as configured; the interpreter lives in ivr/ (ivr/README.md).

Nodes are a discriminated union on `type`. Every reference a node makes (to another
node, a skill or a prompt) is listed by `IvrSettings.references()` so that the loader
refuses a tree with a dangling name, naming the key path.

Global keys at every choice (menu, fault, language): `0` operator, `*` repeat, `#` back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from kernel.config.common import Label, Name, Strict

KEYS = "0123456789*#"
GLOBAL_KEYS = "0*#"


def _check_keys(keys: list[str]) -> None:
    for key in keys:
        if len(key) != 1 or key not in KEYS:
            raise ValueError(f"{key!r} is not a keypad key (one of {KEYS})")
        if key in GLOBAL_KEYS:
            raise ValueError(f"key {key!r} is global (0 operator, * repeat, # back)")


class MenuNode(Strict):
    type: Literal["menu"]
    prompt: Name
    options: dict[str, Name] = Field(min_length=1)
    timeout_seconds: float = Field(5, gt=0, le=60)
    retries: int = Field(2, ge=0, le=9)
    invalid_prompt: Name | None = None
    # Where silence goes (e.g. "goodbye" after the balance was heard); unset: silence is
    # an invalid try like a wrong key, and the last one goes to an agent.
    no_input: Name | None = None

    @model_validator(mode="after")
    def _keys(self) -> MenuNode:
        _check_keys(list(self.options))
        return self


class IdentifyNode(Strict):
    """By caller ID; else the account number typed on the keypad (ended by #)."""

    type: Literal["identify"]
    prompt: Name  # "please enter your account number, then the hash key"
    not_found_prompt: Name
    next: Name
    failed: Name | None = None  # not identified after the retries (default: next)
    max_digits: int = Field(12, ge=4, le=32)
    timeout_seconds: float = Field(8, gt=0, le=60)
    retries: int = Field(2, ge=0, le=9)
    use_caller_id: bool = True
    # False: caller ID only (a silent lookup at the start of the call, nothing asked).
    ask_account: bool = True


class BalanceNode(Strict):
    """Balance, arrears and last payment of the identified customer."""

    type: Literal["balance"]
    identify: Name  # an identify node, run first when the caller is not known yet
    next: Name
    failed: Name | None = None  # could not identify: default the operator
    balance_prompt: Name = "balance_is"
    arrears_prompt: Name = "arrears_is"
    no_arrears_prompt: Name = "no_arrears"
    last_payment_prompt: Name = "last_payment"
    currency_prompt: Name = "yuan"  # said after each amount


class NoticesNode(Strict):
    """Outage notices in force for the caller's district (city-wide ones if unknown)."""

    type: Literal["notices"]
    none_prompt: Name
    intro_prompt: Name
    next: Name


class FaultChoice(Strict):
    category: Name  # a ticket category
    label: Label
    emergency: bool = False  # straight to an emergency queue, urgent ticket, top priority


class FaultNode(Strict):
    type: Literal["fault"]
    prompt: Name
    options: dict[str, FaultChoice] = Field(min_length=1)
    emergency_skill: Name = "emergency"
    emergency_prompt: Name  # "stay away from the leak; connecting you to the emergency crew"
    created_prompt: Name  # "your report is registered under number ..."
    next: Name  # after a non-emergency report
    timeout_seconds: float = Field(5, gt=0, le=60)
    retries: int = Field(2, ge=0, le=9)
    invalid_prompt: Name | None = None

    @model_validator(mode="after")
    def _keys(self) -> FaultNode:
        _check_keys(list(self.options))
        return self


class CallbackNode(Strict):
    """A callback request: the caller hangs up and keeps their place in the skill's line."""

    type: Literal["callback"]
    skill: Name
    confirm_prompt: Name  # "we will call you back at ..."
    number_prompt: Name  # without a caller ID: "enter the number to call, then #"


class HoursNode(Strict):
    type: Literal["hours"]
    open: Name
    closed: Name


class TransferNode(Strict):
    type: Literal["transfer"]
    skill: Name
    prompt: Name | None = None


class LanguageNode(Strict):
    type: Literal["language"]
    prompt: Name
    options: dict[str, Literal["zh", "en"]] = Field(min_length=1)
    next: Name
    timeout_seconds: float = Field(5, gt=0, le=60)

    @model_validator(mode="after")
    def _keys(self) -> LanguageNode:
        _check_keys(list(self.options))
        return self


class PlayNode(Strict):
    type: Literal["play"]
    prompt: Name
    next: Name | None = None  # none: the call ends here, served by self-service


class GoodbyeNode(Strict):
    """Self-service complete: say goodbye and hang up."""

    type: Literal["goodbye"]
    prompt: Name


IvrNode = Annotated[
    MenuNode
    | IdentifyNode
    | BalanceNode
    | NoticesNode
    | FaultNode
    | CallbackNode
    | HoursNode
    | TransferNode
    | LanguageNode
    | PlayNode
    | GoodbyeNode,
    Field(discriminator="type"),
]
NODE_TYPES = {
    "menu",
    "identify",
    "balance",
    "notices",
    "fault",
    "callback",
    "hours",
    "transfer",
    "language",
    "play",
    "goodbye",
}


def ivr_node_types() -> set[str]:
    return set(NODE_TYPES)


class IvrSettings(Strict):
    entry: Name
    operator_skill: Name = "general"
    # Said before transferring to the operator (key 0, or after the last failed try).
    operator_prompt: Name | None = None
    prompts: dict[Name, Label]
    nodes: dict[Name, IvrNode] = Field(min_length=1)
    # Where rendered prompt sound files live (<sounds_dir>/<language>/<prompt>.wav), as
    # Hotline sees it; Asterisk sees the same folder as ${HOTLINE_SOUNDS_DIR}.
    sounds_dir: str = "var/sounds"
    # A lookup (customer, notices, ticket) slower than this sends the caller to an agent.
    lookup_timeout_seconds: float = Field(1.5, gt=0, le=30)

    def references(self) -> list[tuple[str, str, str]]:
        """(key path, kind, name) for every reference a node makes, for validation."""
        refs: list[tuple[str, str, str]] = [("ivr.entry", "node", self.entry)]
        refs.append(("ivr.operator_skill", "skill", self.operator_skill))
        if self.operator_prompt:
            refs.append(("ivr.operator_prompt", "prompt", self.operator_prompt))
        for node_id, node in self.nodes.items():
            refs.extend(_node_refs(f"ivr.nodes.{node_id}", node))
        return refs


_KINDS = {
    "prompt": "prompt",
    "invalid_prompt": "prompt",
    "not_found_prompt": "prompt",
    "none_prompt": "prompt",
    "intro_prompt": "prompt",
    "emergency_prompt": "prompt",
    "created_prompt": "prompt",
    "confirm_prompt": "prompt",
    "number_prompt": "prompt",
    "balance_prompt": "prompt",
    "arrears_prompt": "prompt",
    "no_arrears_prompt": "prompt",
    "last_payment_prompt": "prompt",
    "currency_prompt": "prompt",
    "next": "node",
    "failed": "node",
    "no_input": "node",
    "identify": "node",
    "open": "node",
    "closed": "node",
    "skill": "skill",
    "emergency_skill": "skill",
}


def _node_refs(base: str, node: Strict) -> list[tuple[str, str, str]]:
    refs: list[tuple[str, str, str]] = []
    for field, kind in _KINDS.items():
        value = getattr(node, field, None)
        if isinstance(value, str) and value:
            refs.append((f"{base}.{field}", kind, value))
    if isinstance(node, MenuNode):
        refs.extend((f"{base}.options.{k}", "node", t) for k, t in node.options.items())
    if isinstance(node, FaultNode):
        refs.extend(
            (f"{base}.options.{k}.category", "ticket_category", c.category)
            for k, c in node.options.items()
        )
    return refs
