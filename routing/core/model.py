"""The router's plain data: agents (with their state machine), waiting calls, and what
the router tells its adapter (offers, agent state changes, wrap-ups, overflows). Pure.

Agent states equal db.models.staff.AgentStateName values (what agent_state_history
records). An illegal transition raises IllegalTransition: the agent API maps it to 409.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RoutingError(Exception):
    """A routing request that cannot be carried out (domain error, no HTTP inside)."""


class IllegalTransition(RoutingError):
    def __init__(self, agent_id: int, state: AgentState, to: AgentState) -> None:
        self.agent_id, self.state, self.to = agent_id, state, to
        super().__init__(f"agent {agent_id}: {state.value} -> {to.value} is not allowed")


class AgentNotFree(RoutingError):
    """A transfer's target agent cannot take a call now (busy, not ready, signed out)."""


class PhoneOffline(RoutingError):
    """The agent takes calls on a phone that is not registered (the browser phone's page
    is closed or lost its connection): no call can reach it, so no going ready."""


class UnknownAgent(RoutingError):
    pass


class UnknownCall(RoutingError):
    pass


class UnknownQueue(RoutingError):
    pass


class UnknownReason(RoutingError):
    pass


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"  # an offer is on its way to the agent's phone
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"  # with a reason code (break, lunch, no_answer, ...)


S = AgentState
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.NOT_READY, S.AVAILABLE}),
    S.AVAILABLE: frozenset({S.RESERVED, S.NOT_READY, S.LOGGED_OUT}),
    S.RESERVED: frozenset({S.ON_CALL, S.AVAILABLE, S.NOT_READY}),
    S.ON_CALL: frozenset({S.WRAP_UP}),
    S.WRAP_UP: frozenset({S.AVAILABLE, S.NOT_READY, S.LOGGED_OUT}),
    S.NOT_READY: frozenset({S.AVAILABLE, S.NOT_READY, S.LOGGED_OUT}),
}


class Presence(StrEnum):
    """What the agent's phone says (AMI DeviceStateChange), independent of the state."""

    UNKNOWN = "unknown"  # never heard of: assumed reachable
    IDLE = "idle"
    BUSY = "busy"  # in use by a call Hotline did not route (personal, outbound)
    ABSENT = "absent"  # unregistered / unavailable: never offered


@dataclass(frozen=True, slots=True)
class Match:
    """An agent can take calls of queue `queue` from step `step` on; `level` is its
    best level among the skills that step's target names (the "level for the step")."""

    queue: int
    step: int
    level: int


@dataclass(slots=True, eq=False)
class Agent:
    agent_id: int
    extension: str
    skills: dict[str, int]
    languages: frozenset[str]
    state: AgentState = AgentState.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0  # when the current state began
    idle_since: float = 0.0  # last time it became available: longest idle = smallest
    presence: Presence = Presence.UNKNOWN
    call_id: str | None = None  # the call it is reserved for / talking on / wrapping up
    call_queue: int = -1
    answered_at: float | None = None
    wrap_until: float | None = None
    no_answers: int = 0  # consecutive unanswered offers
    pending_reason: str | None = None  # not-ready asked for while busy: applied after
    pending_not_ready: bool = False
    matches: tuple[Match, ...] = ()
    last_wrap: tuple[str, str, float] | None = None  # (call id, queue, seconds)
    version: int = 0  # bumped whenever its place in the agent pools may change
    # The browser phone (or another device the agent chose at sign-in): the dial string
    # offers use and the device whose state is the agent's presence. None: the
    # configured endpoint (pbx.dialplan.agent_endpoint).
    phone: str | None = None

    @property
    def offerable(self) -> bool:
        return self.state is AgentState.AVAILABLE and self.presence in (
            Presence.UNKNOWN,
            Presence.IDLE,
        )

    def move(self, to: AgentState, at: float, reason: str | None = None) -> None:
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(self.agent_id, self.state, to)
        self.state = to
        self.reason = reason if to is AgentState.NOT_READY else None
        self.since = at
        if to is AgentState.AVAILABLE:
            self.idle_since = at
        self.version += 1


class CallKind(StrEnum):
    LIVE = "live"  # a caller on the line, waiting in a holding queue
    CALLBACK = "callback"  # virtual hold: the customer hung up and keeps the place
    TWILIO = "twilio"  # a caller on the line in a Twilio queue (reached through Twilio)
    # An agent campaign's customer (routing/pbx/campaign_calls.py): dialled once an agent
    # is reserved; below every inbound caller, never aged, not in the inbound figures.
    CAMPAIGN = "campaign"


@dataclass(slots=True, eq=False)
class WaitingCall:
    call_id: str
    queue: int
    priority: int  # as given: tier, emergency, the IVR or a supervisor
    language: str | None
    enqueued_at: float  # the place in line (kept across requeues, overflow, callbacks)
    step_base: float  # when this queue's steps started counting for the call
    seq: int  # arrival counter: the final tie-break
    kind: CallKind = CallKind.LIVE
    head: bool = False  # back after an unanswered offer: head of the line
    may_overflow: bool = True  # False once its overflow action ran (or for callbacks)
    step: int = 0
    declined: frozenset[int] = frozenset()  # agents that did not answer it
    predicted_wait: float | None = None
    waiting: bool = True  # False while offered
    version: int = 0
    bumps: int = 0  # ageing rises it has waited through (routing/core/ageing.py)
    aged: int = 0  # priority points those rises added

    @property
    def effective_priority(self) -> int:
        """The priority the line order uses: as given, plus ageing."""
        return self.priority + self.aged

    def order_key(self) -> tuple[int, int, float, int]:
        """Which call goes first: the higher (effective) priority; within one priority a
        call back from an unanswered offer (head of the line), then the longest waiting.
        A requeued call never goes above a higher priority (an emergency above all)."""
        return (-(self.priority + self.aged), 0 if self.head else 1, self.enqueued_at, self.seq)


@dataclass(frozen=True, slots=True)
class Offer:
    """Decision: `agent_id` (now reserved) takes `call_id`."""

    call_id: str
    agent_id: int
    extension: str
    queue: str
    step: int
    priority: int
    wait_seconds: float
    kind: CallKind
    predicted_wait: float | None
    at: float


@dataclass(frozen=True, slots=True)
class AgentChanged:
    agent_id: int
    extension: str
    state: AgentState
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    agent_id: int
    call_id: str
    queue: str
    wrap_seconds: float
    code: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Overflowed:
    """The last step's timeout passed: carry out the queue's overflow action."""

    call_id: str
    queue: str
    action: str  # queue | voicemail_ticket | callback_offer
    target_queue: str | None
    kind: CallKind
    at: float


RouterEvent = Offer | AgentChanged | WrapUpEnded | Overflowed


@dataclass(slots=True)
class QueueStats:
    """Live per-queue figures for the service level and the wait estimate."""

    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    handle_seconds: float = 0.0  # smoothed talk + wrap-up time
    waits: list[float] = field(default_factory=list)
