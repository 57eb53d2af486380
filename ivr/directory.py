"""The IVR's lookups against Hotline's database: customers, notices, fault tickets, hours.

    directory = DbDirectory(services)
    answer = await directory.answer(Query(QueryKind.CUSTOMER_BY_PHONE, (("number", n),)), call)

Customer lookups are single indexed selects (customer_phones.number, customers.
account_number); a fault ticket goes through the tickets feature (TicketService.
create_fault_ticket), so repeat reports link to the caller's open ticket instead of
duplicating it. Every call is bounded by the driver's deadline (ivr/driver.py).

`ReaderDirectory` is what the FastAGI server uses: the same answers, with the customer
lookups and the calendar's version check on the IVR's read path (ivr/customer_reader.py):
one select each, no ORM, no session.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from sqlmodel import select

from customers import lookup
from customers.notices import NoticeService
from db.models import Customer
from hotline.services import Services
from ivr.customer_reader import CustomerReader
from ivr.driver import CallContext
from ivr.script import Answer, CustomerInfo, NoticeInfo, Query, QueryKind, TicketInfo
from kernel.business_calendar import BusinessCalendar, LiveCalendar, load_overrides


class DbDirectory:
    def __init__(self, services: Services) -> None:
        self._services = services
        s = services.settings
        # Config hours plus the administration page's edits, current at each call.
        self._calendar = LiveCalendar(s.business_hours, s.center.timezone, services.engine)
        self._notices = NoticeService(services)
        self._tickets: Any = None

    async def answer(self, query: Query, call: CallContext) -> Answer:
        kind = query.kind
        if kind is QueryKind.CUSTOMER_BY_PHONE:
            return await self.customer_by_phone(query.arg("number"))
        if kind is QueryKind.CUSTOMER_BY_ACCOUNT:
            return await self.customer_by_account(query.arg("account"))
        if kind is QueryKind.NOTICES:
            return await self.notices(query.arg("district"), query.arg("language", "zh"))
        if kind is QueryKind.FAULT_TICKET:
            return await self.fault_ticket(query, call)
        if kind is QueryKind.IS_OPEN:
            calendar = await self._calendar.current()
            return calendar.is_open(self._services.clock.now())
        raise ValueError(f"unknown IVR query {kind}")

    async def customer_by_phone(self, number: str) -> CustomerInfo | None:
        async with self._services.sessions() as session:
            found = await lookup.holder(session, number)
        return _info(found) if found else None

    async def customer_by_account(self, account: str) -> CustomerInfo | None:
        if not account:
            return None
        stmt = select(Customer).where(Customer.account_number == account).limit(1)
        async with self._services.sessions() as session:
            found = (await session.exec(stmt)).first()
        return _info(found) if found else None

    async def notices(self, district: str, language: str) -> tuple[NoticeInfo, ...]:
        found = await self._notices.active(district or None)
        english = language == "en"
        return tuple(
            NoticeInfo(
                title=(n.title_en if english and n.title_en else n.title_zh),
                body=(n.body_en if english and n.body_en else n.body_zh),
            )
            for n in found[:5]  # a caller listens to five at most
        )

    async def fault_ticket(self, query: Query, call: CallContext) -> TicketInfo:
        customer = query.arg("customer_id")
        result = await self._ticket_service().create_fault_ticket(
            linkedid=call.call_id,
            caller_number=call.caller_number,
            customer_id=int(customer) if customer.isdigit() else None,
            category=query.arg("category", "repair"),
            priority=query.arg("priority", "normal"),
            description=query.arg("label"),
            facts={"报修类型": query.arg("label")},
        )
        ticket = result.ticket
        assert ticket.id is not None
        return TicketInfo(id=ticket.id, number=ticket.number)

    def _ticket_service(self) -> Any:
        if self._tickets is None:
            self._tickets = self._services.features.tickets
        if self._tickets is None:  # no tickets runtime in this process: our own service
            from tickets.service import TicketService

            self._tickets = TicketService(self._services)
        return self._tickets


REMEMBERED_CALLS = 2000  # calls between a caller-ID lookup and the hours check, at most
CALL_VERSION_SECONDS = 30.0  # a version read with the lookup serves the call this long


class ReaderDirectory(DbDirectory):
    """DbDirectory whose customer lookups and calendar check take the read path."""

    def __init__(self, services: Services, reader: CustomerReader | None = None) -> None:
        super().__init__(services)
        self.reader = reader or CustomerReader(services)
        s = services.settings
        self._hours, self._zone = s.business_hours, s.center.timezone
        self._version: tuple[str, ...] | None = None
        self._open_calendar = BusinessCalendar(self._hours, self._zone)
        # Calendar versions read with a call's caller-ID lookup, for that call's hours
        # check (one round trip less per call on PostgreSQL). Read during the call, so
        # an edit is still seen at the next call. A call that hangs up in between
        # leaves its entry: the oldest go past REMEMBERED_CALLS, and one older than
        # CALL_VERSION_SECONDS is not used (a menu without an hours node, the same
        # Linkedid back in the IVR later: its version could predate an edit).
        self._call_versions: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()

    async def answer(self, query: Query, call: CallContext) -> Answer:
        if query.kind is QueryKind.IS_OPEN:
            calendar = await self.calendar(self._call_version(call.call_id))
            return calendar.is_open(self._services.clock.now())
        if query.kind is QueryKind.CUSTOMER_BY_PHONE:
            found, version = await self.reader.by_phone_and_calendar(query.arg("number"))
            if version is not None and call.call_id:
                self._call_versions[call.call_id] = (time.monotonic(), version)
                if len(self._call_versions) > REMEMBERED_CALLS:
                    self._call_versions.popitem(last=False)
            return found
        return await super().answer(query, call)

    def _call_version(self, call_id: str) -> tuple[str, ...] | None:
        read_at, version = self._call_versions.pop(call_id, (0.0, None))
        return version if time.monotonic() - read_at <= CALL_VERSION_SECONDS else None

    async def customer_by_phone(self, number: str) -> CustomerInfo | None:
        return await self.reader.by_phone(number)

    async def customer_by_account(self, account: str) -> CustomerInfo | None:
        return await self.reader.by_account(account)

    async def calendar(self, version: tuple[str, ...] | None = None) -> BusinessCalendar:
        """LiveCalendar's rule (an edit is seen at the next call, in every process),
        its version read on the read path (or given: read earlier in this call):
        rebuilt only after an edit."""
        if version is None:
            version = await self.reader.calendar_version()
        if version != self._version:
            overrides = await load_overrides(self._services.engine)
            self._open_calendar = BusinessCalendar(self._hours, self._zone, overrides)
            self._version = version
        return self._open_calendar


def _info(c: Customer) -> CustomerInfo:
    assert c.id is not None
    return CustomerInfo(
        id=c.id,
        name=c.name,
        account_number=c.account_number,
        tier=c.tier.value,
        language=c.language.value,
        district=c.district,
        balance=c.balance,
        arrears=c.arrears,
        last_payment_on=c.last_payment_on,
        last_payment_amount=c.last_payment_amount,
        pin_hash=c.pin_hash,
    )
