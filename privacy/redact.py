"""Masking customers' numbers in what the API and the desk's push send (PIPL).

`NumberPolicy` says whether a role sees full numbers (privacy.full_number_roles);
`redact` masks a JSON-ready value by its keys, so one walker serves the customer file, a
search hit, a call summary, a screen-pop and a call frame alike:

- `caller_number`, `contact_number`, `callback_number`, `phone` (strings): masked;
- `dialed_number`: masked on an outbound call (the customer's number), kept inbound
  (the center's own hotline number);
- `phones`: a list of numbers, or of {"number", ...} (a file's phone list);
- `caller`: the pop's {"number", "name"}; `id_number`: an ID number;
- `facts`, `ivr_facts` (what the caller keyed in the IVR, "callback=139..."): phones
  inside the text.

A ticket's or an account's `number` is not a phone and is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from kernel.config.backoffice import PrivacySettings
from kernel.masking import mask_id_number, mask_phone, mask_phones_in_text

PHONE_KEYS = frozenset({"caller_number", "contact_number", "callback_number", "phone"})
ID_KEYS = frozenset({"id_number"})
TEXT_KEYS = frozenset({"facts", "ivr_facts"})
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class NumberPolicy:
    settings: PrivacySettings

    def full_for(self, role: str) -> bool:
        """Whether `role` is shown full numbers (always, when masking is off)."""
        return not self.settings.mask_numbers or role in self.settings.full_number_roles


def redact(value: Any) -> Any:
    """A copy of a JSON-ready value with customers' numbers masked."""
    if isinstance(value, list):
        return [redact(v) for v in value]
    if not isinstance(value, dict):
        return value
    outbound = value.get("direction") in ("out", "outbound")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in PHONE_KEYS and isinstance(item, str):
            out[key] = mask_phone(item)
        elif key in ID_KEYS and isinstance(item, str):
            out[key] = mask_id_number(item)
        elif key == "dialed_number" and outbound and isinstance(item, str):
            out[key] = mask_phone(item)
        elif key == "phones" and isinstance(item, list):
            out[key] = [_phone_entry(p) for p in item]
        elif key == "caller" and isinstance(item, dict):
            out[key] = {**redact(item), "number": mask_phone(str(item.get("number") or ""))}
        elif key in TEXT_KEYS:
            out[key] = _in_text(item)
        else:
            out[key] = redact(item)
    return out


def _phone_entry(entry: Any) -> Any:
    if isinstance(entry, str):
        return mask_phone(entry)
    if isinstance(entry, dict):
        return {**redact(entry), "number": mask_phone(str(entry.get("number") or ""))}
    return entry


def _in_text(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones_in_text(value)
    if isinstance(value, list):
        return [_in_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _in_text(v) for k, v in value.items()}
    return value


def redact_model(model: M) -> M:
    """The same pydantic view with its numbers masked."""
    return type(model).model_validate(redact(model.model_dump(mode="json")))


def has_numbers(value: Any) -> bool:
    """Whether a JSON-ready value carries a customer's number at all (an audited display
    of full numbers only when there is one)."""
    return bool(redact(value) != value)
