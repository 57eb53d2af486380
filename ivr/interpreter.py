"""The IVR menu interpreter: pure, deterministic, transport-independent.

    flow = Interpreter(settings).run(caller_number="13912345678")
    instruction = next(flow)
    instruction = flow.send(reply)        # until StopIteration(value=IvrResult)

It never does I/O: keys come back from `Ask`, lookups from `Lookup` (the driver asks the
directory). The same inputs give the same instructions and result, which is what lets
the Twilio front end replay a call from its recorded replies, one webhook at a time.

Rules every node shares: at a choice, 0 = an agent (operator_skill), * = repeat, # =
back to the previous menu; silence and wrong keys re-prompt up to the node's retries,
then go to an agent; a failed lookup sends the caller to an agent with the default
priority (never stuck, never dropped).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

from ivr.script import (
    LOOKUP_FAILED,
    Ask,
    CallFacts,
    CustomerInfo,
    Date,
    Digits,
    Instruction,
    IvrResult,
    Lookup,
    Mark,
    Money,
    NoticeInfo,
    Outcome,
    Prompt,
    Query,
    QueryKind,
    Reply,
    Say,
    Text,
    TicketInfo,
    Utterance,
)
from kernel.config.ivr_menu import (
    BalanceNode,
    CallbackNode,
    FaultNode,
    GoodbyeNode,
    HoursNode,
    IdentifyNode,
    IvrSettings,
    LanguageNode,
    MenuNode,
    NoticesNode,
    PlayNode,
    TransferNode,
)
from kernel.config.settings import Settings
from kernel.pins import verify_pin

Flow = Generator[Instruction, Reply, Any]
MAX_STEPS = 100  # a loop in the menu (play -> play -> ...) ends at an agent, not forever
DEFAULT_PRIORITY = 0
PIN_PROMPT, PIN_WRONG_PROMPT = "pin_enter", "pin_wrong"  # ivr.prompts (config.yaml)


class _Done(Exception):
    def __init__(self, result: IvrResult) -> None:
        self.result = result


class Interpreter:
    def __init__(self, settings: Settings) -> None:
        self.ivr: IvrSettings = settings.ivr
        self._tiers = {name: t.priority for name, t in settings.tiers.items()}
        self._emergency_priority = settings.routing.emergency_priority
        self._emergency_queues = set(settings.routing.emergency_queues)
        self._language = settings.center.default_language
        self._pin = settings.privacy.ivr_pin
        self._pin_attempts = settings.privacy.ivr_pin_attempts

    def run(self, caller_number: str, language: str | None = None) -> Flow:
        call = CallFacts(caller_number=_digits(caller_number), language=language or self._language)
        return _in_language(self._walk(call), call)

    def _walk(self, call: CallFacts) -> Flow:
        node_id, came_by = self.ivr.entry, "start"
        back: list[str] = []  # menus left by a key, for "#"
        try:
            for _ in range(MAX_STEPS):
                yield Mark(node_id, came_by)
                call.path.append(node_id)
                node = self.ivr.nodes[node_id]
                target = yield from self._node(call, node_id, node)
                target_id, came_by = target
                if target_id == "#":  # back: to the menu we came from, else stay here
                    target_id = back.pop() if back else node_id
                elif isinstance(node, MenuNode) and came_by in node.options:
                    back.append(node_id)
                node_id = target_id
            yield from self._operator(call, "loop")
        except _Done as done:
            return done.result
        raise AssertionError("unreachable")  # _operator always finishes

    # -- nodes ------------------------------------------------------------------

    def _node(self, call: CallFacts, node_id: str, node: Any) -> Flow:
        if isinstance(node, MenuNode):
            return (yield from self._menu(call, node))
        if isinstance(node, IdentifyNode):
            found = yield from self._identify(call, node)
            if found or node.failed is None:
                return node.next, "identified" if found else "unidentified"
            return node.failed, "unidentified"
        if isinstance(node, BalanceNode):
            return (yield from self._balance(call, node))
        if isinstance(node, NoticesNode):
            return (yield from self._notices(call, node))
        if isinstance(node, FaultNode):
            return (yield from self._fault(call, node))
        if isinstance(node, CallbackNode):
            yield from self._callback(call, node)
        if isinstance(node, HoursNode):
            is_open = yield Lookup(Query(QueryKind.IS_OPEN))
            # Unknown hours: open, so that the caller can reach a person.
            return (node.closed, "closed") if is_open is False else (node.open, "open")
        if isinstance(node, TransferNode):
            if node.prompt:
                yield Say((Prompt(node.prompt),))
            self._finish(call, Outcome.QUEUE, node.skill)
        if isinstance(node, LanguageNode):
            return (yield from self._choose_language(call, node))
        if isinstance(node, PlayNode):
            yield Say((Prompt(node.prompt),))
            if node.next is None:
                self._finish(call, Outcome.SELF_SERVICE, self.ivr.operator_skill, "hangup")
            return node.next, "played"
        if isinstance(node, GoodbyeNode):
            yield Say((Prompt(node.prompt),))
            self._finish(call, Outcome.SELF_SERVICE, self.ivr.operator_skill, "hangup")
        raise TypeError(f"ivr node {node_id!r}: unknown kind {type(node).__name__}")

    def _choice(
        self,
        call: CallFacts,
        prompt: str,
        keys: set[str],
        *,
        timeout: float,
        retries: int,
        invalid_prompt: str | None,
        no_input: str | None = None,
    ) -> Flow:
        """One key among `keys`; returns (key, "") or (node, "timeout") or ("#", "#")."""
        items: tuple[Utterance, ...] = (Prompt(prompt),)
        tries = 0
        while True:
            reply = yield Ask(items, 1, timeout)
            key = reply[:1] if isinstance(reply, str) else ""
            items = (Prompt(prompt),)
            if key == "":
                if no_input is not None:
                    return no_input, "timeout"
                reason = "timeout"
            elif key == "0":
                yield from self._operator(call, "requested")
            elif key == "*":
                continue
            elif key == "#":
                return "#", "#"
            elif key in keys:
                return key, ""
            else:
                reason = "invalid"
                if invalid_prompt:
                    items = (Prompt(invalid_prompt), Prompt(prompt))
            tries += 1
            if tries > retries:
                yield from self._operator(call, reason)

    def _menu(self, call: CallFacts, node: MenuNode) -> Flow:
        key, how = yield from self._choice(
            call,
            node.prompt,
            set(node.options),
            timeout=node.timeout_seconds,
            retries=node.retries,
            invalid_prompt=node.invalid_prompt,
            no_input=node.no_input,
        )
        if how:  # "#" or silence with a no_input target
            return key, how
        return node.options[key], key

    def _identify(self, call: CallFacts, node: IdentifyNode) -> Flow:
        if call.customer is not None:
            return True
        if node.use_caller_id and call.caller_number:
            number = call.caller_number
            found = yield from self._lookup(call, QueryKind.CUSTOMER_BY_PHONE, number=number)
            if isinstance(found, CustomerInfo):
                return self._identified(call, found, "caller_id")
        if not node.ask_account:
            return False
        items: tuple[Utterance, ...] = (Prompt(node.prompt),)
        for _ in range(node.retries + 1):
            reply = yield Ask(items, node.max_digits, node.timeout_seconds, terminator="#")
            entered = reply if isinstance(reply, str) else ""
            if entered == "0":
                yield from self._operator(call, "requested")
            account = _digits(entered)
            items = (Prompt(node.prompt),)
            if not account:
                continue
            found = yield from self._lookup(call, QueryKind.CUSTOMER_BY_ACCOUNT, account=account)
            if isinstance(found, CustomerInfo):
                return self._identified(call, found, "account")
            items = (Prompt(node.not_found_prompt), Prompt(node.prompt))
        call.facts["identified"] = "no"
        return False

    def _identified(self, call: CallFacts, customer: CustomerInfo, how: str) -> bool:
        call.customer = customer
        call.facts["identified"] = how
        call.facts["customer"] = customer.name
        if not call.language_chosen and customer.language in ("zh", "en"):
            call.language = customer.language
        return True

    def _balance(self, call: CallFacts, node: BalanceNode) -> Flow:
        identify = self.ivr.nodes[node.identify]
        assert isinstance(identify, IdentifyNode)  # checked when config.yaml is loaded
        if not (yield from self._identify(call, identify)) or call.customer is None:
            if node.failed is None:
                yield from self._operator(call, "not_identified")
            return node.failed, "unidentified"
        yield from self._check_pin(call)
        c, unit = call.customer, Prompt(node.currency_prompt)
        items: list[Utterance] = [Prompt(node.balance_prompt), Money(c.balance), unit]
        if c.arrears > 0:
            items += [Prompt(node.arrears_prompt), Money(c.arrears), unit]
        else:
            items.append(Prompt(node.no_arrears_prompt))
        if c.last_payment_on is not None and c.last_payment_amount is not None:
            items += [Prompt(node.last_payment_prompt), Money(c.last_payment_amount), unit]
            items.append(Date(c.last_payment_on))
        yield Say(tuple(items))
        call.facts["heard"] = "balance"
        call.facts["balance"] = f"{c.balance:.2f}"
        call.facts["arrears"] = f"{c.arrears:.2f}"
        return node.next, "heard"

    def _check_pin(self, call: CallFacts) -> Flow:
        """privacy.ivr_pin: a customer with a PIN enters it before account self-service;
        wrong ivr_pin_attempts times, an agent (never the balance). Digits never recorded."""
        customer = call.customer
        if not self._pin or customer is None or not customer.pin_hash:
            return
        if call.facts.get("pin") == "ok":
            return
        items: tuple[Utterance, ...] = (Prompt(PIN_PROMPT),)
        for _ in range(self._pin_attempts):
            reply = yield Ask(items, 6, 10, terminator="#")
            entered = _digits(reply) if isinstance(reply, str) else ""
            if entered and verify_pin(entered, customer.pin_hash):
                call.facts["pin"] = "ok"
                yield Mark("pin_ok", "pin")
                call.path.append("pin_ok")
                return
            items = (Prompt(PIN_WRONG_PROMPT), Prompt(PIN_PROMPT))
        call.facts["pin"] = "failed"
        yield Mark("pin_failed", "pin")
        call.path.append("pin_failed")
        yield from self._operator(call, "pin_failed")

    def _notices(self, call: CallFacts, node: NoticesNode) -> Flow:
        district = call.customer.district if call.customer else ""
        found = yield from self._lookup(
            call, QueryKind.NOTICES, district=district, language=call.language
        )
        notices: tuple[NoticeInfo, ...] = found if isinstance(found, tuple) else ()
        if not notices:
            yield Say((Prompt(node.none_prompt),))
        else:
            items: list[Utterance] = [Prompt(node.intro_prompt)]
            items += [Text(f"{n.title}。{n.body}" if n.body else n.title) for n in notices]
            yield Say(tuple(items))
        call.facts["notices"] = str(len(notices))
        return node.next, "heard"

    def _fault(self, call: CallFacts, node: FaultNode) -> Flow:
        key, how = yield from self._choice(
            call,
            node.prompt,
            set(node.options),
            timeout=node.timeout_seconds,
            retries=node.retries,
            invalid_prompt=node.invalid_prompt,
        )
        if how:
            return key, how
        choice = node.options[key]
        call.facts["fault"] = choice.label.zh
        urgent = "urgent" if choice.emergency else "normal"
        customer = str(call.customer.id) if call.customer else ""
        args = {"category": choice.category, "priority": urgent, "label": choice.label.zh}
        reply = yield Lookup(
            Query(
                QueryKind.FAULT_TICKET,
                tuple({**args, "customer_id": customer, "number": call.caller_number}.items()),
            )
        )
        ticket = reply if isinstance(reply, TicketInfo) else None
        if ticket is not None:
            call.tickets.append(ticket)
            call.facts["ticket"] = ticket.number
        if choice.emergency:
            # A leak goes to the crew even if the ticket could not be written.
            call.facts["emergency"] = "yes"
            yield Say((Prompt(node.emergency_prompt),))
            self._finish(call, Outcome.QUEUE, node.emergency_skill)
        if ticket is None:
            yield from self._operator(call, "lookup")
            return None  # not reached: _operator finishes the call
        yield Say((Prompt(node.created_prompt), Digits(_digits(ticket.number))))
        return node.next, key

    def _callback(self, call: CallFacts, node: CallbackNode) -> Flow:
        number = call.caller_number
        for _ in range(2):
            if number:
                break
            reply = yield Ask((Prompt(node.number_prompt),), 15, 10, terminator="#")
            number = _digits(reply) if isinstance(reply, str) else ""
        if not number:
            yield from self._operator(call, "no_number")
        yield Say((Prompt(node.confirm_prompt), Digits(number)))
        call.facts["callback"] = number
        self._finish(call, Outcome.CALLBACK, node.skill, "hangup", callback=number)

    def _choose_language(self, call: CallFacts, node: LanguageNode) -> Flow:
        key, how = yield from self._choice(
            call,
            node.prompt,
            set(node.options),
            timeout=node.timeout_seconds,
            retries=0,
            invalid_prompt=None,
            no_input=node.next,
        )
        if how:
            return key, how
        call.language, call.language_chosen = node.options[key], True
        call.facts["language"] = call.language
        return node.next, key

    # -- endings and lookups ------------------------------------------------------

    def _lookup(self, call: CallFacts, kind: QueryKind, **args: str) -> Flow:
        answer = yield Lookup(Query(kind, tuple(args.items())))
        if answer is LOOKUP_FAILED:
            call.facts["lookup_failed"] = kind.value
            yield from self._operator(call, "lookup", default_priority=True)
        return answer

    def _operator(self, call: CallFacts, reason: str, *, default_priority: bool = False) -> Flow:
        """Hand the caller to an agent (raises _Done through the generator chain)."""
        yield Mark("operator", reason)
        call.path.append("operator")
        call.facts["operator"] = reason
        if self.ivr.operator_prompt:
            yield Say((Prompt(self.ivr.operator_prompt),))
        if default_priority:
            self._finish(call, Outcome.QUEUE, self.ivr.operator_skill, priority=DEFAULT_PRIORITY)
        self._finish(call, Outcome.QUEUE, self.ivr.operator_skill)

    def _finish(
        self,
        call: CallFacts,
        outcome: Outcome,
        skill: str,
        action: str = "queue",
        *,
        callback: str = "",
        priority: int | None = None,
    ) -> None:
        tier = call.customer.tier if call.customer else None
        if priority is None:
            priority = self.priority(skill, tier)
        raise _Done(
            IvrResult(
                outcome=outcome,
                skill=skill,
                priority=priority,
                language=call.language,
                customer_id=call.customer.id if call.customer else None,
                tier=tier,
                path=tuple(call.path),
                facts=tuple(call.facts.items()),
                tickets=tuple(call.tickets),
                callback_number=callback,
                action="hangup" if action == "hangup" else "queue",
            )
        )

    def priority(self, skill: str, tier: str | None) -> int:
        """Emergencies above everything, then the customer's tier (config `tiers`)."""
        if skill in self._emergency_queues:
            return self._emergency_priority
        return self._tiers.get(tier or "", DEFAULT_PRIORITY)


def _in_language(flow: Flow, call: CallFacts) -> Flow:
    """Stamps every Say/Ask with the language the call has when it is said."""
    try:
        instruction = next(flow)
        while True:
            if isinstance(instruction, Say | Ask) and instruction.language != call.language:
                instruction = replace(instruction, language=call.language)
            instruction = flow.send((yield instruction))
    except StopIteration as stop:
        return stop.value


def _digits(text: object) -> str:
    return "".join(ch for ch in str(text) if ch.isdigit())
