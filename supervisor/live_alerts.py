"""Live view alerts. Pure.

Kinds (the wallboard words them in zh/en from the fields):
- "service_level": a queue's service level (answered within the SL seconds ÷ answered,
  reports/metrics.py) is under its target percent, once it has answered
  `reports.service_level_alert_min_calls` calls today. Raised once, again only after it
  recovered.
- "long_wait": a caller has waited in a queue longer than `reports.wait_alert_seconds`.
  Once per call.
- "sla.warning" / "sla.breach": a ticket's SLA, as tickets/sla.py published it on bus
  topic "alert" (its `notify` says who should hear of it: roles and user ids).
- "customer.read_volume": an agent read more customer files than privacy allows in its
  window and is throttled (desk/access.py publishes it on "alert", once per window).
- "sms.failed": a text message to a customer the SMS gateway gave up on
  (integrations/sms.py: refused, or max_attempts), once per message; the number masked.

Every alert: {"id", "kind", "at" (epoch), "queue"?, ...}; the newest `keep` are kept.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from kernel.masking import mask_phone

SLA_KINDS = frozenset({"sla.warning", "sla.breach"})
PRIVACY_KINDS = frozenset({"customer.read_volume"})
SMS_KINDS = frozenset({"sms.failed"})


def _epoch(value: Any, default: float) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).timestamp()
        except ValueError:
            return default
    return default


class Alerts:
    def __init__(self, *, wait_seconds: float, min_calls: int, keep: int = 50) -> None:
        self.wait_seconds = wait_seconds
        self.min_calls = min_calls
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._low_queues: set[str] = set()
        self._long_calls: set[str] = set()
        self._n = 0

    def _raise(self, alert: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        alert.setdefault("id", f"{alert['kind']}-{self._n}")
        self.recent.appendleft(alert)
        return alert

    def service_levels(
        self, levels: Iterable[tuple[str, float | None, int, float]], now: float
    ) -> list[dict[str, Any]]:
        """(queue, service level 0..1 or None, answered today, target percent) per queue."""
        out = []
        for queue, level, answered, target in levels:
            low = level is not None and answered >= self.min_calls and level * 100 < target
            if low and queue not in self._low_queues:
                self._low_queues.add(queue)
                out.append(
                    self._raise(
                        {
                            "kind": "service_level",
                            "at": now,
                            "queue": queue,
                            "service_level": level,
                            "target_percent": target,
                            "answered": answered,
                        }
                    )
                )
            elif not low:
                self._low_queues.discard(queue)
        return out

    def long_waits(
        self, waiting: Iterable[tuple[str, str | None, float, str]], now: float
    ) -> list[dict[str, Any]]:
        """(linkedid, queue, seconds waited, caller number) per waiting caller."""
        out = []
        still: set[str] = set()
        for linkedid, queue, seconds, caller in waiting:
            if seconds <= self.wait_seconds:
                continue
            still.add(linkedid)
            if linkedid in self._long_calls:
                continue
            out.append(
                self._raise(
                    {
                        "kind": "long_wait",
                        "at": now,
                        "queue": queue,
                        "call_id": linkedid,
                        "wait_seconds": round(seconds, 1),
                        "threshold_seconds": self.wait_seconds,
                        "caller_number": caller,
                    }
                )
            )
        self._long_calls = still  # a call that stopped waiting may alert again if re-queued
        return out

    def ticket(self, event: Mapping[str, Any], now: float) -> dict[str, Any] | None:
        """A tickets/sla.py alert from the bus, or None if it is not one."""
        kind = event.get("type")
        if kind not in SLA_KINDS:
            return None
        ticket = event.get("ticket") if isinstance(event.get("ticket"), dict) else {}
        return self._raise(
            {
                "kind": kind,
                "at": _epoch(event.get("at"), now),
                "clock": event.get("clock"),
                "level": event.get("level"),
                "department": event.get("department"),
                "department_label": event.get("department_label"),
                "ticket": ticket,
                "due_at": event.get("due_at"),
                "notify": event.get("notify") or {},
            }
        )

    def privacy(self, event: Mapping[str, Any], now: float) -> dict[str, Any] | None:
        """A privacy alert from the bus (an agent throttled reading files), or None."""
        kind = event.get("type")
        if kind not in PRIVACY_KINDS:
            return None
        return self._raise(
            {
                "kind": kind,
                "at": _epoch(event.get("at"), now),
                "agent_id": event.get("agent_id"),
                "agent": event.get("agent"),
                "agent_name": event.get("agent_name"),
                "reads": event.get("reads"),
                "window_minutes": event.get("window_minutes"),
                "notify": event.get("notify") or {},
            }
        )

    def sms(self, event: Mapping[str, Any], now: float) -> dict[str, Any] | None:
        """A text message the SMS gateway gave up on, or None."""
        kind = event.get("type")
        if kind not in SMS_KINDS:
            return None
        number = event.get("number")
        return self._raise(
            {
                "kind": kind,
                "at": _epoch(event.get("at"), now),
                "sms_id": event.get("sms_id"),
                "number": mask_phone(number if isinstance(number, str) else None),
                "reason": event.get("reason"),
                "attempts": event.get("attempts"),
                "error": event.get("error"),
                "notify": event.get("notify") or {},
            }
        )


def addressed_to(alert: Mapping[str, Any], role: str, user_id: int) -> bool:
    """Whether a supervisor socket should hear of an alert: a ticket alert's `notify`
    names roles and user ids; the live view's own alerts are for every supervisor."""
    notify = alert.get("notify")
    if not isinstance(notify, dict) or not notify:
        return True
    return role in (notify.get("roles") or ()) or user_id in (notify.get("user_ids") or ())
